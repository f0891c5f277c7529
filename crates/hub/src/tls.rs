//! HTTPS with optional mutual TLS: per-agency client certificates as an alternative to bearer
//! tokens (`serve --tls-cert --tls-key --client-ca`).
//!
//! A client certificate signed by the client CA names its holder in its subject: `O` is the
//! agency, `CN` the user, `OU` the role (default `analyst`). Over such a connection the hub takes
//! the caller's identity from the certificate (bearer tokens are still accepted on connections
//! without one), so a certificate of agency A that asks as agency B gets the same 403, logged, as
//! a token would. rustls with the ring provider does the TLS; handshakes run concurrently, each
//! limited to ten seconds.
//!
//! A certificate is checked at the handshake and again on every request against the settings in
//! force ([`ClientCert::still_valid`]), so one revoked by a new CRL, or past its `notAfter`,
//! stops working on connections already open. A certificate whose subject repeats `O`, `CN` or
//! `OU` names no one for sure: its connection is closed after the handshake, with the reason on
//! standard error. Its `O` must be an agency of the deployment (checked per request).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use sha2::{Digest, Sha256};
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

/// The client certificate of a connection, if it presented one (a request extension handlers see).
#[derive(Clone, Debug, Default)]
pub struct ClientCert {
    /// Who the certificate names (none: no certificate; the caller needs a bearer token).
    pub identity: Option<CertIdentity>,
    check: Option<Arc<CertCheck>>,
}

/// How a connection's certificate is checked again on each request.
#[derive(Debug)]
struct CertCheck {
    chain: Vec<CertificateDer<'static>>,
    settings: Arc<RwLock<TlsSettings>>,
    /// The settings' generation and time of the last successful check.
    last: Mutex<(u64, Instant)>,
}

/// How often a connection's certificate is checked again while the TLS settings stay the same
/// (for its expiry and its CRLs' `nextUpdate`); a change of settings (a new CRL) checks it on
/// the next request.
pub const RECHECK_EVERY: Duration = Duration::from_secs(1);

impl ClientCert {
    /// A connection's certificate chain (end entity first) as checked against `settings`.
    fn new(chain: Vec<CertificateDer<'static>>, settings: Arc<RwLock<TlsSettings>>) -> Result<Self, String> {
        let Some(end) = chain.first() else { return Ok(Self::default()) };
        let identity = identity_of(end)?;
        let generation = settings.read().map(|s| s.generation).unwrap_or(0);
        let check = CertCheck { chain, settings, last: Mutex::new((generation, Instant::now())) };
        Ok(Self { identity: Some(identity), check: Some(Arc::new(check)) })
    }

    /// Checks the certificate against the TLS settings in force now (CA, CRLs, validity period):
    /// an error says why it no longer names its holder.
    pub fn still_valid(&self) -> Result<(), String> {
        let Some(check) = &self.check else { return Ok(()) };
        let settings = check.settings.read().map_err(|_| "TLS settings unavailable".to_string())?;
        let mut last = check.last.lock().map_err(|_| "TLS settings unavailable".to_string())?;
        if last.0 == settings.generation && last.1.elapsed() < RECHECK_EVERY {
            return Ok(());
        }
        let verifier = settings.client_verifier.as_ref().ok_or("the hub no longer accepts client certificates")?;
        verifier
            .verify_client_cert(&check.chain[0], &check.chain[1..], UnixTime::now())
            .map_err(|e| format!("the client certificate is no longer valid ({e})"))?;
        *last = (settings.generation, Instant::now());
        Ok(())
    }
}

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

/// Reads `O`, `CN` and `OU` from the subject of a DER certificate; an error when one of them is
/// repeated (which one would name the holder?), `O` or `CN` is missing, or the DER is malformed.
pub fn identity_of(der: &[u8]) -> Result<CertIdentity, String> {
    subject_of(der).ok_or_else(|| "the certificate's subject cannot be read".to_string())?
}

fn subject_of(der: &[u8]) -> Option<Result<CertIdentity, String>> {
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
            let (slot, name) = match oid {
                [0x55, 0x04, 0x03] => (&mut cn, "CN"),
                [0x55, 0x04, 0x0a] => (&mut o, "O"),
                [0x55, 0x04, 0x0b] => (&mut ou, "OU"),
                _ => continue,
            };
            if slot.replace(text).is_some() {
                return Some(Err(format!("the certificate's subject repeats {name}")));
            }
        }
    }
    let (Some(agency), Some(user)) = (o, cn) else {
        return Some(Err("the certificate's subject needs O (the agency) and CN (the user)".into()));
    };
    Some(Ok(CertIdentity {
        agency,
        user,
        role: ou.unwrap_or_else(|| "analyst".into()),
        fingerprint: hex::encode(&Sha256::digest(der)[..8]),
    }))
}

/// The DER content of the `clientAuth` extended key usage (1.3.6.1.5.5.7.3.2).
const CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];

/// Checks what the hub asks of a client certificate beyond the CA's signature: X.509 v3 with an
/// extended key usage that includes `clientAuth` (a certificate made for a server, or for any
/// purpose, is not an agency user's credential). The error says what is missing.
pub fn client_auth_usage(der: &[u8]) -> Result<(), String> {
    usage_of(der).unwrap_or_else(|| Err("the certificate cannot be read".into()))
}

fn usage_of(der: &[u8]) -> Option<Result<(), String>> {
    const SEQ: u8 = 0x30;
    let (SEQ, cert, _) = tlv(der)? else { return None };
    let (SEQ, tbs, _) = tlv(cert)? else { return None };
    // version [0] EXPLICIT INTEGER, absent in a v1 certificate.
    let (tag, version, mut rest) = tlv(tbs)?;
    if tag != 0xa0 || tlv(version)?.1 != [2] {
        return Some(Err(
            "the certificate is not X.509 v3; a client certificate must be v3 with extendedKeyUsage clientAuth".into(),
        ));
    }
    // serial, signature algorithm, issuer, validity, subject, public key; then optional fields.
    for _ in 0..6 {
        rest = tlv(rest)?.2;
    }
    while !rest.is_empty() {
        let (tag, body, r) = tlv(rest)?;
        rest = r;
        if tag != 0xa3 {
            continue;
        }
        let (SEQ, mut extensions, _) = tlv(body)? else { return None };
        while !extensions.is_empty() {
            let (_, extension, r) = tlv(extensions)?;
            extensions = r;
            let (0x06, oid, after) = tlv(extension)? else { return None };
            if oid != [0x55, 0x1d, 0x25] {
                continue;
            }
            // An optional `critical` BOOLEAN, then the OCTET STRING holding the purposes.
            let (tag, value, r) = tlv(after)?;
            let value = if tag == 0x01 { tlv(r)?.1 } else { value };
            let (SEQ, mut purposes, _) = tlv(value)? else { return None };
            while !purposes.is_empty() {
                let (_, purpose, r) = tlv(purposes)?;
                purposes = r;
                if purpose == CLIENT_AUTH {
                    return Some(Ok(()));
                }
            }
            return Some(Err("the certificate's extendedKeyUsage does not include clientAuth".into()));
        }
    }
    Some(Err("the certificate has no extendedKeyUsage; a client certificate needs extendedKeyUsage clientAuth".into()))
}

/// The CA's verifier, refusing in the handshake a certificate that fails [`client_auth_usage`]
/// (the reason goes to standard error).
#[derive(Debug)]
struct ClientAuthOnly(Arc<dyn ClientCertVerifier>);

impl ClientCertVerifier for ClientAuthOnly {
    fn offer_client_auth(&self) -> bool {
        self.0.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.0.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        self.0.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if let Err(why) = client_auth_usage(end_entity) {
            eprintln!("client certificate refused in the TLS handshake: {why}");
            return Err(rustls::Error::General(why));
        }
        self.0.verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
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
    settings(cert, key, client_ca, client_crls).map(|(config, _)| config)
}

type Settings = (Arc<rustls::ServerConfig>, Option<Arc<dyn ClientCertVerifier>>);

/// [`server_config`], and the client certificate verifier in it.
fn settings(cert: &Path, key: &Path, client_ca: Option<&Path>, client_crls: &[PathBuf]) -> Result<Settings, HubError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = read_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| HubError::Config(format!("{}: {e}", key.display())))?;
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| HubError::Config(e.to_string()))?;
    let mut client_verifier = None;
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
            let verifier: Arc<dyn ClientCertVerifier> = Arc::new(ClientAuthOnly(verifier));
            client_verifier = Some(Arc::clone(&verifier));
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config =
        builder.with_single_cert(chain, key).map_err(|e| HubError::Config(format!("{}: {e}", cert.display())))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), client_verifier))
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

    fn settings(&self) -> Result<Settings, HubError> {
        settings(&self.cert, &self.key, self.client_ca.as_deref(), &self.client_crls)
    }

    /// Modification time and length of every file (`None` for one that cannot be read).
    fn stamp(&self) -> Vec<Option<(std::time::SystemTime, u64)>> {
        let files = [&self.cert, &self.key].into_iter().chain(&self.client_ca).chain(&self.client_crls);
        files.map(|f| std::fs::metadata(f).ok().and_then(|m| Some((m.modified().ok()?, m.len())))).collect()
    }
}

/// The TLS settings in force, numbered so that a connection knows when they changed.
struct TlsSettings {
    acceptor: TlsAcceptor,
    client_verifier: Option<Arc<dyn ClientCertVerifier>>,
    generation: u64,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings").field("generation", &self.generation).finish_non_exhaustive()
    }
}

/// Handshakes with the settings of [`TlsFiles`] in force, reloading them when the files change
/// (checked every [`RELOAD_EVERY`]); dropping it stops the reloading.
#[derive(Debug)]
pub struct Handshaker {
    settings: Arc<RwLock<TlsSettings>>,
    reload: tokio::task::JoinHandle<()>,
}

impl Drop for Handshaker {
    fn drop(&mut self) {
        self.reload.abort();
    }
}

/// How long a TLS handshake may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

impl Handshaker {
    /// Loads the settings of `files` (an error if they do not load) and watches the files.
    pub fn new(files: TlsFiles) -> Result<Self, HubError> {
        let (config, client_verifier) = files.settings()?;
        let settings =
            Arc::new(RwLock::new(TlsSettings { acceptor: TlsAcceptor::from(config), client_verifier, generation: 0 }));
        let current = Arc::clone(&settings);
        let reload = tokio::spawn(async move {
            let mut seen = files.stamp();
            loop {
                tokio::time::sleep(RELOAD_EVERY).await;
                let stamp = files.stamp();
                if stamp == seen {
                    continue;
                }
                seen = stamp;
                let f = files.clone();
                match tokio::task::spawn_blocking(move || f.settings()).await {
                    Ok(Ok((config, client_verifier))) => {
                        if let Ok(mut s) = current.write() {
                            let generation = s.generation + 1;
                            *s = TlsSettings { acceptor: TlsAcceptor::from(config), client_verifier, generation };
                        }
                        eprintln!("TLS settings reloaded (certificate, key, client CA and CRLs)");
                    }
                    Ok(Err(e)) => eprintln!("TLS settings not reloaded, the previous ones stay in force: {e}"),
                    Err(e) => eprintln!("TLS settings not reloaded: {e}"),
                }
            }
        });
        Ok(Self { settings, reload })
    }

    /// Handshakes on `stream` with the settings in force (within [`HANDSHAKE_TIMEOUT`]); the
    /// error says why the connection is refused.
    pub async fn handshake<IO>(&self, stream: IO) -> Result<(tokio_rustls::server::TlsStream<IO>, ClientCert), String>
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let acceptor = self.settings.read().map_err(|_| "TLS settings unavailable".to_string())?.acceptor.clone();
        let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => return Err(format!("TLS handshake failed: {e}")),
            Err(_) => return Err("TLS handshake timed out".into()),
        };
        let chain: Vec<CertificateDer<'static>> = tls
            .get_ref()
            .1
            .peer_certificates()
            .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default();
        let cert = ClientCert::new(chain, Arc::clone(&self.settings))?;
        Ok((tls, cert))
    }
}
