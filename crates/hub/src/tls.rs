//! HTTPS with optional mutual TLS: per-agency client certificates as an alternative to bearer
//! tokens (`serve --tls-cert --tls-key --client-ca`).
//!
//! A client certificate signed by the client CA names its holder in its subject: `O` is the
//! agency, `CN` the user, `OU` the role (default `analyst`). Over such a connection the hub takes
//! the caller's identity from the certificate (bearer tokens are still accepted on connections
//! without one), so a certificate of agency A that asks as agency B gets the same 403, logged, as
//! a token would. rustls with the ring provider does the TLS; handshakes run concurrently, each
//! limited to ten seconds.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::tokens::TokenRecord;
use crate::HubError;

/// Who a verified client certificate names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertIdentity {
    /// Subject `O`.
    pub agency: String,
    /// Subject `CN`.
    pub user: String,
    /// Subject `OU`, or `analyst`.
    pub role: String,
    /// The first 16 hex digits of the certificate's SHA-256 (logged as the credential id).
    pub fingerprint: String,
}

impl CertIdentity {
    /// The identity as the token record the request pipeline works with (id `x509:<fingerprint>`).
    pub fn record(&self) -> TokenRecord {
        TokenRecord {
            id: format!("x509:{}", self.fingerprint),
            hash: String::new(),
            agency: self.agency.clone(),
            user: self.user.clone(),
            role: self.role.clone(),
            issued: 0,
            expires: u64::MAX,
            revoked: false,
        }
    }
}

/// The client certificate of a connection, if it presented one (the connect info handlers see).
#[derive(Clone, Debug, Default)]
pub struct ClientCert(pub Option<CertIdentity>);

/// One DER element: (tag, contents, rest).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        rest = &rest[n..];
        len
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// Reads `O`, `CN` and `OU` from the subject of a DER certificate.
pub fn identity_of(der: &[u8]) -> Option<CertIdentity> {
    const SEQ: u8 = 0x30;
    let (SEQ, cert, _) = tlv(der)? else { return None };
    let (SEQ, mut tbs, _) = tlv(cert)? else { return None };
    // [0] version (optional), serial, signature algorithm, issuer, validity, subject.
    if tbs.first() == Some(&0xa0) {
        tbs = tlv(tbs)?.2;
    }
    for _ in 0..4 {
        tbs = tlv(tbs)?.2;
    }
    let (SEQ, mut subject, _) = tlv(tbs)? else { return None };
    let (mut o, mut cn, mut ou) = (None, None, None);
    while !subject.is_empty() {
        let (_, mut set, rest) = tlv(subject)?;
        subject = rest;
        while !set.is_empty() {
            let (_, atv, rest) = tlv(set)?;
            set = rest;
            let (0x06, oid, value) = tlv(atv)? else { return None };
            let (_, text, _) = tlv(value)?;
            let text = std::str::from_utf8(text).ok()?.to_string();
            match oid {
                [0x55, 0x04, 0x03] => cn = Some(text),
                [0x55, 0x04, 0x0a] => o = Some(text),
                [0x55, 0x04, 0x0b] => ou = Some(text),
                _ => {}
            }
        }
    }
    Some(CertIdentity {
        agency: o?,
        user: cn?,
        role: ou.unwrap_or_else(|| "analyst".into()),
        fingerprint: hex::encode(&Sha256::digest(der)[..8]),
    })
}

/// Every PEM object of kind `T` in `path`; none is an error that says `what` was expected.
fn read_pem<T: PemObject>(path: &Path, what: &str) -> Result<Vec<T>, HubError> {
    let items: Vec<T> = T::pem_file_iter(path)
        .map_err(|e| HubError::Config(format!("{}: {e}", path.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| HubError::Config(format!("{}: {e}", path.display())))?;
    if items.is_empty() {
        return Err(HubError::Config(format!("{}: no PEM {what}", path.display())));
    }
    Ok(items)
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, HubError> {
    read_pem(path, "certificate")
}

/// The TLS settings of `serve`: the server's certificate chain and key (PEM), the CA whose
/// client certificates are accepted (none: no client certificates, bearer tokens only), and the
/// certificate revocation lists of that CA (PEM). With CRLs, a client certificate they revoke
/// fails the handshake, and so does one whose status they cannot tell (a CRL from another
/// issuer, or one past its `nextUpdate`): fail closed.
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
    client_crls: &[PathBuf],
) -> Result<Arc<rustls::ServerConfig>, HubError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = read_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| HubError::Config(format!("{}: {e}", key.display())))?;
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| HubError::Config(e.to_string()))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in read_certs(ca)? {
                roots.add(c).map_err(|e| HubError::Config(format!("{}: {e}", ca.display())))?;
            }
            let mut crls = Vec::new();
            for path in client_crls {
                crls.extend(read_pem::<CertificateRevocationListDer<'static>>(
                    path,
                    "certificate revocation list (X509 CRL)",
                )?);
            }
            let mut verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider).allow_unauthenticated();
            if !crls.is_empty() {
                verifier = verifier.with_crls(crls).only_check_end_entity_revocation().enforce_revocation_expiration();
            }
            let verifier = verifier.build().map_err(|e| HubError::Config(format!("{}: {e}", ca.display())))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config =
        builder.with_single_cert(chain, key).map_err(|e| HubError::Config(format!("{}: {e}", cert.display())))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// How often a serving hub looks for changed TLS files ([`TlsFiles`]).
pub const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// The files of `serve`'s TLS settings (see [`server_config`]). A serving hub re-reads them when one
/// changes (checked every [`RELOAD_EVERY`]): a new CRL, or a renewed server certificate, takes effect
/// for the next handshakes without a restart. A change that does not load (a damaged or half-written
/// file) is reported on standard error and the settings in force stay, with every revocation they
/// hold; they keep failing closed once their CRLs pass `nextUpdate`.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The server's certificate chain (PEM).
    pub cert: PathBuf,
    /// The server's private key (PEM).
    pub key: PathBuf,
    /// The CA whose client certificates are accepted (none: bearer tokens only).
    pub client_ca: Option<PathBuf>,
    /// That CA's certificate revocation lists (PEM).
    pub client_crls: Vec<PathBuf>,
}

impl TlsFiles {
    /// Loads the settings ([`server_config`]).
    pub fn config(&self) -> Result<Arc<rustls::ServerConfig>, HubError> {
        server_config(&self.cert, &self.key, self.client_ca.as_deref(), &self.client_crls)
    }

    /// Modification time and length of every file (`None` for one that cannot be read).
    fn stamp(&self) -> Vec<Option<(std::time::SystemTime, u64)>> {
        let files = [&self.cert, &self.key].into_iter().chain(&self.client_ca).chain(&self.client_crls);
        files.map(|f| std::fs::metadata(f).ok().and_then(|m| Some((m.modified().ok()?, m.len())))).collect()
    }
}

/// A TCP listener that hands out TLS connections whose handshake succeeded.
pub struct TlsListener {
    rx: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, (SocketAddr, ClientCert))>,
    tasks: [tokio::task::JoinHandle<()>; 2],
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.tasks.iter().for_each(|t| t.abort());
    }
}

impl TlsListener {
    /// Accepts on `tcp`, handshaking with the settings of `files` (loaded once to check them),
    /// and reloads them when the files change.
    pub fn new(tcp: TcpListener, files: TlsFiles) -> Result<Self, HubError> {
        let current = Arc::new(std::sync::RwLock::new(TlsAcceptor::from(files.config()?)));
        let reload = {
            let current = Arc::clone(&current);
            tokio::spawn(async move {
                let mut seen = files.stamp();
                loop {
                    tokio::time::sleep(RELOAD_EVERY).await;
                    let stamp = files.stamp();
                    if stamp == seen {
                        continue;
                    }
                    seen = stamp;
                    let f = files.clone();
                    match tokio::task::spawn_blocking(move || f.config()).await {
                        Ok(Ok(config)) => {
                            if let Ok(mut a) = current.write() {
                                *a = TlsAcceptor::from(config);
                            }
                            eprintln!("TLS settings reloaded (certificate, key, client CA and CRLs)");
                        }
                        Ok(Err(e)) => eprintln!("TLS settings not reloaded, the previous ones stay in force: {e}"),
                        Err(e) => eprintln!("TLS settings not reloaded: {e}"),
                    }
                }
            })
        };
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, addr)) = tcp.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let Ok(acceptor) = current.read().map(|a| a.clone()) else { return };
                let tx = tx.clone();
                tokio::spawn(async move {
                    let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await
                    else {
                        return; // a failed handshake (wrong CA, plain HTTP, timeout) just closes
                    };
                    let cert = tls.get_ref().1.peer_certificates().and_then(|c| c.first()).and_then(|c| identity_of(c));
                    let _ = tx.send((tls, (addr, ClientCert(cert)))).await;
                });
            }
        });
        Ok(Self { rx, tasks: [accept, reload] })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = (SocketAddr, ClientCert);

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The accept task is gone: nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Err(std::io::Error::other("a TLS listener's address is that of its TCP listener"))
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for ClientCert {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        stream.remote_addr().1.clone()
    }
}
