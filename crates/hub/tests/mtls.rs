//! Mutual TLS over real TLS on loopback, with certificates made by the `openssl` command in the
//! test: a client certificate names agency (O), user (CN) and role (OU) and stands in for a bearer
//! token; it cannot speak for another agency (403, logged); certificates of another CA are refused
//! in the handshake; bearer tokens still work over TLS without a client certificate.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::TestHub;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::{json, Value};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("the openssl command");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Makes `NAME.key` and `NAME.pem` signed by `CA.pem`/`CA.key` in `dir`.
fn leaf(dir: &Path, ca: &str, name: &str, subject: &str, ext: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            subject,
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.pem"),
            "-days",
            "1",
            "-extfile",
            &format!("{name}.ext"),
        ],
    );
}

fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "1",
            "-subj",
            &format!("/CN={name}"),
        ],
    );
}

const CLIENT_EXT: &str = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n";

struct Pki(PathBuf);

fn pki() -> (tempfile::TempDir, Pki) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    make_ca(d, "ca");
    make_ca(d, "rogue");
    leaf(d, "ca", "server", "/CN=localhost", "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
    leaf(d, "ca", "ramos", "/O=oc-sheriff/OU=detective/CN=det-ramos", CLIENT_EXT);
    leaf(d, "ca", "ortiz", "/O=lapd/OU=supervisor/CN=sgt-ortiz", CLIENT_EXT);
    leaf(d, "rogue", "forged", "/O=oc-sheriff/OU=detective/CN=det-ramos", CLIENT_EXT);
    let p = Pki(d.to_path_buf());
    (tmp, p)
}

impl Pki {
    fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }

    /// The hub's TLS files: its certificate, with `ca.pem` as the client CA if `client_ca`, and `crls`.
    fn files(&self, client_ca: bool, crls: &[&str]) -> hub::tls::TlsFiles {
        hub::tls::TlsFiles {
            cert: self.path("server.pem"),
            key: self.path("server.key"),
            client_ca: client_ca.then(|| self.path("ca.pem")),
            client_crls: crls.iter().map(|c| self.path(c)).collect(),
        }
    }

    fn client(&self, who: Option<&str>) -> Arc<rustls::ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from_pem_file(self.path("ca.pem")).unwrap()).unwrap();
        let b = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        Arc::new(match who {
            None => b.with_no_client_auth(),
            Some(n) => b
                .with_client_auth_cert(
                    vec![CertificateDer::from_pem_file(self.path(&format!("{n}.pem"))).unwrap()],
                    PrivateKeyDer::from_pem_file(self.path(&format!("{n}.key"))).unwrap(),
                )
                .unwrap(),
        })
    }
}

/// One HTTPS exchange: (status, body), or the TLS/IO error.
fn https(
    hub: &TestHub,
    client: Arc<rustls::ClientConfig>,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Result<(u16, Value), String> {
    let addr = hub.url.strip_prefix("https://").unwrap();
    let tcp = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let conn = rustls::ClientConnection::new(client, ServerName::try_from("localhost").unwrap()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(tls, "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    match tls.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !out.is_empty() => {}
        Err(e) => return Err(e.to_string()),
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    let status =
        text.split(' ').nth(1).and_then(|c| c.parse().ok()).ok_or_else(|| format!("no HTTP answer: {text:?}"))?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

fn alpr(agency: &str, user: &str) -> String {
    json!({
        "requester": {"id": user, "agency": agency, "role": "detective"},
        "source": "ociac-alpr", "action": "lookup", "purpose": "criminal_investigation",
        "justification": "Armed robbery 2024-118", "case_number": "OCSD-2024-118",
        "legal_basis": {"kind": "none"}, "subject": {"kind": "plate", "value": "7ABC123"}
    })
    .to_string()
}

#[test]
fn client_certificates_name_the_caller() {
    let (_tmp, pki) = pki();
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_tls(dir.path(), pki.files(true, &[]));
    let ramos = pki.client(Some("ramos"));

    // The certificate is the credential: no token needed.
    let (status, body) =
        https(&hub, Arc::clone(&ramos), "POST", "/v1/requests", None, &alpr("oc-sheriff", "det-ramos")).unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decision"], "permit");
    assert!(!body["data"].as_array().unwrap().is_empty());

    // A certificate of one agency cannot ask as another: 403, and the attempt is logged.
    let (status, body) =
        https(&hub, Arc::clone(&ramos), "POST", "/v1/requests", None, &alpr("ice-ero", "ero-officer")).unwrap();
    assert_eq!(status, 403, "{body}");
    let refused_at = body["ledger"]["index"].as_u64().unwrap();
    // The role comes from OU: a detective may not list reviews, a supervisor may.
    assert_eq!(https(&hub, Arc::clone(&ramos), "GET", "/v1/reviews", None, "").unwrap().0, 403);
    let (status, body) = https(&hub, pki.client(Some("ortiz")), "GET", "/v1/reviews", None, "").unwrap();
    assert_eq!((status, &body["agency"]), (200, &json!("lapd")), "{body}");

    // Without a client certificate: bearer tokens as before.
    let anon = pki.client(None);
    assert_eq!(
        https(&hub, Arc::clone(&anon), "POST", "/v1/requests", None, &alpr("oc-sheriff", "det-ramos")).unwrap().0,
        401
    );
    let token = hub::tokens::issue(&*hub.store, "oc-sheriff", "det-2", "detective", 3600).unwrap().0;
    assert_eq!(https(&hub, anon, "POST", "/v1/requests", Some(&token), &alpr("oc-sheriff", "det-2")).unwrap().0, 200);

    // A certificate from another CA, with the very same subject, is refused in the handshake.
    assert!(https(&hub, pki.client(Some("forged")), "POST", "/v1/requests", None, &alpr("oc-sheriff", "det-ramos"))
        .is_err());

    // The ledger names the certificate as the credential and records the refusal.
    let wal = std::fs::read(dir.path().join("ledger/entries.wal")).unwrap();
    let wal = String::from_utf8_lossy(&wal);
    assert!(wal.contains("\"token\":\"x509:"), "the certificate is the logged credential");
    assert!(wal.contains("\"type\":\"refused\""));
    assert!(refused_at >= 1);
}

#[test]
fn plain_http_and_bad_files_are_refused() {
    let (_tmp, pki) = pki();
    let err =
        hub::tls::server_config(&pki.path("server.pem"), &pki.path("missing.key"), None, &[]).unwrap_err().to_string();
    assert!(err.contains("missing.key"), "{err}");
    let err =
        hub::tls::server_config(&pki.path("server.key"), &pki.path("server.key"), None, &[]).unwrap_err().to_string();
    assert!(err.contains("server.key"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_tls(dir.path(), pki.files(false, &[]));
    // Plain HTTP to the TLS port gets no HTTP answer.
    let addr = hub.url.strip_prefix("https://").unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    assert!(!String::from_utf8_lossy(&out).starts_with("HTTP/1.1 200"));
    // Over TLS it answers; the certificate's subject parser reads O, CN and OU.
    assert_eq!(https(&hub, pki.client(None), "GET", "/healthz", None, "").unwrap().0, 200);
    let der = CertificateDer::from_pem_file(pki.path("ramos.pem")).unwrap();
    let id = hub::tls::identity_of(&der).unwrap();
    assert_eq!((id.agency.as_str(), id.user.as_str(), id.role.as_str()), ("oc-sheriff", "det-ramos", "detective"));
    assert!(hub::tls::identity_of(&der[..der.len() / 2]).is_err(), "a truncated certificate names nobody");
}

/// Revokes `revoke` (if any) in the CRL of `ca` and writes that CRL to `out` (PEM), with `openssl ca`.
fn crl(dir: &Path, ca: &str, revoke: Option<&str>, out: &str) {
    std::fs::write(dir.join(format!("{ca}-index.txt")), "").unwrap();
    std::fs::write(dir.join(format!("{ca}-crlnumber")), "01\n").unwrap();
    let cnf = format!(
        "[ca]\ndefault_ca = fg\n[fg]\ndatabase = {ca}-index.txt\ncrlnumber = {ca}-crlnumber\ndefault_md = sha256\ndefault_crl_days = 1\n"
    );
    std::fs::write(dir.join(format!("{ca}.cnf")), cnf).unwrap();
    let (cnf, key, cert) = (format!("{ca}.cnf"), format!("{ca}.key"), format!("{ca}.pem"));
    let base = ["ca", "-config", &cnf, "-keyfile", &key, "-cert", &cert];
    if let Some(r) = revoke {
        let pem = format!("{r}.pem");
        openssl(dir, &[&base[..], &["-revoke", &pem]].concat());
    }
    openssl(dir, &[&base[..], &["-gencrl", "-out", out]].concat());
}

#[test]
fn revoked_client_certificates_fail_the_handshake() {
    let (_tmp, pki) = pki();
    crl(&pki.0, "ca", Some("ortiz"), "ca-crl.pem");
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_tls(dir.path(), pki.files(true, &["ca-crl.pem"]));
    // A certificate the CRL does not list still works; the revoked one is refused in the handshake.
    let (status, body) =
        https(&hub, pki.client(Some("ramos")), "POST", "/v1/requests", None, &alpr("oc-sheriff", "det-ramos")).unwrap();
    assert_eq!(status, 200, "{body}");
    let revoked = https(&hub, pki.client(Some("ortiz")), "GET", "/v1/reviews", None, "");
    assert!(revoked.is_err(), "a revoked certificate got an answer: {revoked:?}");
    // Bearer tokens over TLS are unaffected.
    assert_eq!(https(&hub, pki.client(None), "GET", "/healthz", None, "").unwrap().0, 200);
    drop(hub);

    // Only a CRL of another issuer: no certificate's status is known, so none is accepted.
    crl(&pki.0, "rogue", None, "rogue-crl.pem");
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_tls(dir.path(), pki.files(true, &["rogue-crl.pem"]));
    assert!(
        https(&hub, pki.client(Some("ramos")), "POST", "/v1/requests", None, &alpr("oc-sheriff", "det-ramos")).is_err()
    );

    // A file that holds no CRL is a configuration error naming it.
    let err = pki.files(true, &["ca.pem"]).config().unwrap_err().to_string();
    assert!(err.contains("ca.pem") && err.contains("no PEM certificate revocation list"), "{err}");
}

#[test]
fn a_new_crl_takes_effect_without_a_restart_and_a_bad_one_changes_nothing() {
    let (_tmp, pki) = pki();
    crl(&pki.0, "ca", None, "ca-crl.pem");
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_tls(dir.path(), pki.files(true, &["ca-crl.pem"]));
    let reviews = |who: &str| https(&hub, pki.client(Some(who)), "GET", "/v1/reviews", None, "").map(|r| r.0);
    assert_eq!(reviews("ortiz"), Ok(200), "nothing is revoked yet");

    // The CA revokes ortiz and publishes a new list in place (written aside, then renamed).
    crl(&pki.0, "ca", Some("ortiz"), "ca-crl.new");
    std::fs::rename(pki.path("ca-crl.new"), pki.path("ca-crl.pem")).unwrap();
    let deadline = std::time::Instant::now() + hub::tls::RELOAD_EVERY * 10;
    while reviews("ortiz").is_ok() {
        assert!(std::time::Instant::now() < deadline, "the new CRL was not taken up");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Others are unaffected.
    assert_eq!(
        https(&hub, pki.client(Some("ramos")), "POST", "/v1/requests", None, &alpr("oc-sheriff", "det-ramos"))
            .unwrap()
            .0,
        200
    );

    // A damaged list (half-written, or not a CRL) does not load: the one in force stays, so the
    // revoked certificate stays refused and the others keep working.
    std::fs::write(pki.path("ca-crl.pem"), "-----BEGIN X509 CRL-----\nnot base64\n").unwrap();
    std::thread::sleep(hub::tls::RELOAD_EVERY * 3);
    assert!(reviews("ortiz").is_err(), "a damaged CRL undid a revocation");
    assert_eq!(https(&hub, pki.client(None), "GET", "/healthz", None, "").unwrap().0, 200);
    assert_eq!(reviews("ramos"), Ok(403), "ramos is a detective: an answer, refused by role, not by TLS");
}

/// Reads one HTTP/1.1 answer (status and body by Content-Length) from a kept-alive connection.
fn read_answer(tls: &mut impl Read) -> std::io::Result<(u16, String)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if tls.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let len: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    tls.read_exact(&mut body)?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

#[test]
fn a_revoked_certificate_stops_working_on_an_open_connection() {
    let (_tmp, pki) = pki();
    crl(&pki.0, "ca", None, "ca-crl.pem");
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_tls(dir.path(), pki.files(true, &["ca-crl.pem"]));
    let addr = hub.url.strip_prefix("https://").unwrap();
    let tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let conn =
        rustls::ClientConnection::new(pki.client(Some("ortiz")), ServerName::try_from("localhost").unwrap()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let ask = |tls: &mut rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>| {
        tls.write_all(b"GET /v1/reviews HTTP/1.1\r\nHost: localhost\r\n\r\n")?;
        read_answer(tls)
    };
    assert_eq!(ask(&mut tls).unwrap().0, 200);
    // The CA revokes the supervisor's certificate; the connection stays open.
    crl(&pki.0, "ca", Some("ortiz"), "ca-crl.new");
    std::fs::rename(pki.path("ca-crl.new"), pki.path("ca-crl.pem")).unwrap();
    let deadline = std::time::Instant::now() + hub::tls::RELOAD_EVERY * 10;
    loop {
        match ask(&mut tls) {
            Ok((200, _)) => {}
            Ok((status, body)) => {
                assert_eq!(status, 401, "{body}");
                assert!(body.contains("no longer valid"), "{body}");
                break;
            }
            Err(e) => panic!("the connection broke instead of refusing the request: {e}"),
        }
        assert!(std::time::Instant::now() < deadline, "the revoked certificate kept working on its open connection");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn certificates_that_name_two_agencies_or_an_unknown_one_are_refused() {
    let (_tmp, pki) = pki();
    leaf(&pki.0, "ca", "twice", "/O=oc-sheriff/O=ice-ero/OU=detective/CN=det-ramos", CLIENT_EXT);
    leaf(&pki.0, "ca", "twocn", "/O=oc-sheriff/OU=detective/CN=det-ramos/CN=ero-officer", CLIENT_EXT);
    leaf(&pki.0, "ca", "nowhere", "/O=agency-of-nowhere/OU=detective/CN=someone", CLIENT_EXT);
    for name in ["twice", "twocn"] {
        let der = CertificateDer::from_pem_file(pki.path(&format!("{name}.pem"))).unwrap();
        let err = hub::tls::identity_of(&der).unwrap_err();
        assert!(err.contains("repeats"), "{name}: {err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_tls(dir.path(), pki.files(true, &[]));
    for name in ["twice", "twocn"] {
        let r = https(&hub, pki.client(Some(name)), "POST", "/v1/requests", None, &alpr("ice-ero", "det-ramos"));
        assert!(r.is_err(), "{name}: a certificate with a repeated attribute got an answer: {r:?}");
    }
    let (status, body) = https(&hub, pki.client(Some("nowhere")), "GET", "/v1/reviews", None, "").unwrap();
    assert_eq!(status, 401, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("not an agency of this deployment"), "{body}");
    // Nothing was logged for any of them.
    let wal = std::fs::read(dir.path().join("ledger/entries.wal")).unwrap_or_default();
    assert!(!String::from_utf8_lossy(&wal).contains("\"type\""), "an entry was logged");
}

#[test]
fn a_client_certificate_must_be_v3_with_client_auth() {
    let (_tmp, pki) = pki();
    // Made for any purpose (no extended key usage), for a server, and an X.509 v1 certificate.
    leaf(
        &pki.0,
        "ca",
        "anyuse",
        "/O=oc-sheriff/OU=detective/CN=det-ramos",
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n",
    );
    leaf(
        &pki.0,
        "ca",
        "serverish",
        "/O=oc-sheriff/OU=detective/CN=det-ramos",
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    );
    let csr = "ramos.csr";
    openssl(
        &pki.0,
        &[
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "v1.pem",
            "-days",
            "1",
        ],
    );
    std::fs::copy(pki.path("ramos.key"), pki.path("v1.key")).unwrap();
    let reason = |name: &str| {
        let der = CertificateDer::from_pem_file(pki.path(&format!("{name}.pem"))).unwrap();
        hub::tls::client_auth_usage(&der)
    };
    assert_eq!(reason("ramos"), Ok(()));
    assert!(reason("anyuse").unwrap_err().contains("no extendedKeyUsage"));
    assert!(reason("serverish").unwrap_err().contains("does not include clientAuth"));
    assert!(reason("v1").unwrap_err().contains("not X.509 v3"));
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_tls(dir.path(), pki.files(true, &[]));
    // (rustls will not even present a v1 certificate as a client, so the handshake test is for the others.)
    for name in ["anyuse", "serverish"] {
        let r = https(&hub, pki.client(Some(name)), "GET", "/v1/reviews", None, "");
        assert!(r.is_err(), "{name}: the handshake succeeded: {r:?}");
    }
    assert_eq!(https(&hub, pki.client(Some("ramos")), "GET", "/v1/reviews", None, "").unwrap().0, 403);
}

/// One HTTPS exchange with extra header lines; returns (status, head, body) as text.
fn https_text(
    hub: &TestHub,
    client: Arc<rustls::ClientConfig>,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (u16, String, String) {
    let addr = hub.url.strip_prefix("https://").unwrap();
    let tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let conn = rustls::ClientConnection::new(client, ServerName::try_from("localhost").unwrap()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    write!(
        tls,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{headers}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

fn set_cookie(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

#[test]
fn a_client_certificate_logs_in_to_the_console_and_the_session_is_bound_to_it() {
    let (_tmp, pki) = pki();
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_tls(dir.path(), pki.files(true, &[]));
    let ramos = pki.client(Some("ramos"));

    // The login page offers the certificate it sees, and binds its form to a cookie.
    let (status, head, body) = https_text(&hub, Arc::clone(&ramos), "GET", "/console/login", "", "");
    assert_eq!(status, 200, "{head}");
    assert!(body.contains("Log in with your client certificate") && body.contains("det-ramos"), "{body}");
    let login = set_cookie(&head, "fg_login").expect("a login cookie");
    assert!(login.contains("HttpOnly") && login.contains("SameSite=Strict") && login.contains("Secure"), "{login}");
    let value = login.split(';').next().unwrap().split_once('=').unwrap().1.to_string();
    assert!(body.contains(&format!("name=\"login_csrf\" value=\"{value}\"")));

    // Without the form's token: refused.
    let (status, _, _) = https_text(&hub, Arc::clone(&ramos), "POST", "/console/login", "", "with=certificate");
    assert_eq!(status, 403);
    // With it: a session, in a cookie that is Secure under TLS.
    let (status, head, _) = https_text(
        &hub,
        Arc::clone(&ramos),
        "POST",
        "/console/login",
        &format!("Cookie: fg_login={value}\r\n"),
        &format!("login_csrf={value}&with=certificate"),
    );
    assert_eq!(status, 303, "{head}");
    let session = set_cookie(&head, "fg_session").expect("a session cookie");
    assert!(session.contains("Secure") && session.contains("HttpOnly") && session.contains("Path=/console"));
    let cookie = format!("Cookie: {}\r\n", session.split(';').next().unwrap());
    let (status, _, body) = https_text(&hub, Arc::clone(&ramos), "GET", "/console", &cookie, "");
    assert_eq!(status, 200);
    assert!(body.contains("det-ramos (oc-sheriff, detective)"), "{body}");

    // The session holds for that certificate only: another one, or none, gets the login page.
    for client in [pki.client(Some("ortiz")), pki.client(None)] {
        let (status, head, _) = https_text(&hub, client, "GET", "/console", &cookie, "");
        assert_eq!(status, 303, "{head}");
        assert!(head.contains("/console/login"), "{head}");
    }
}
