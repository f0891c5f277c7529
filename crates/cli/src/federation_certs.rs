//! The TLS certificates of a federation of hubs, as `fusionguard demo --federation` makes them: a
//! federation CA, and for each hub a certificate that it serves with and presents to its peers
//! (subject `O=FusionGuard federation`, `OU=hub`, `CN=<the hub's federation name>`; `serverAuth`
//! and `clientAuth`), signed by that CA. Keys are ECDSA P-256; every file is PEM, keys mode 0600.

use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{bail, Context};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};

/// The subject organisation (`O`) of the federation's CA and of every hub certificate.
pub const ORGANIZATION: &str = "FusionGuard federation";
/// The subject organisational unit (`OU`) of a hub certificate.
pub const HUB_UNIT: &str = "hub";
/// The subject common name (`CN`) of the federation's CA.
pub const CA_NAME: &str = "FusionGuard federation CA";
/// How many days a certificate made here is valid, from the day before it is made.
pub const VALID_DAYS: i64 = 365;

/// The names every hub certificate is valid for: the loopback address and `localhost`.
pub const LOOPBACK_NAMES: &[&str] = &["127.0.0.1", "localhost"];

/// A federation's certificate authority, held in memory to sign hub certificates.
pub struct FederationCa {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
    key_pem: String,
}

impl std::fmt::Debug for FederationCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FederationCa").finish_non_exhaustive()
    }
}

/// A hub's certificate and private key, PEM.
#[derive(Clone)]
pub struct HubCert {
    /// The certificate.
    pub cert_pem: String,
    /// Its private key (PKCS #8).
    pub key_pem: String,
}

impl std::fmt::Debug for HubCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubCert").field("cert_pem", &self.cert_pem).finish_non_exhaustive()
    }
}

/// The validity of a certificate made today: from yesterday (clocks differ) for [`VALID_DAYS`].
fn validity(params: &mut CertificateParams) {
    let today = model::Date::today().days();
    let day = |days: i64| {
        let (y, m, d) = model::Date::from_days(days).ymd();
        rcgen::date_time_ymd(i32::try_from(y).unwrap_or(9999), m as u8, d as u8)
    };
    params.not_before = day(today - 1);
    params.not_after = day(today + VALID_DAYS);
}

/// A random positive serial number of 16 bytes.
fn serial() -> anyhow::Result<SerialNumber> {
    let mut bytes: [u8; 16] = hub::keys::random_bytes()?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01; // no leading zero byte: DER keeps all 16
    Ok(SerialNumber::from_slice(&bytes))
}

impl FederationCa {
    /// A new CA with a fresh key (subject `CN=FusionGuard federation CA`, `O=FusionGuard
    /// federation`), allowed to sign end-entity certificates only (path length 0).
    pub fn generate() -> anyhow::Result<Self> {
        let key = KeyPair::generate().context("cannot make the federation CA's key")?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, ORGANIZATION);
        dn.push(DnType::CommonName, CA_NAME);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        params.serial_number = Some(serial()?);
        validity(&mut params);
        let cert = params.self_signed(&key).context("cannot sign the federation CA's certificate")?;
        let key_pem = key.serialize_pem();
        Ok(Self { cert_pem: cert.pem(), key_pem, issuer: Issuer::new(params, key) })
    }

    /// The CA's certificate (PEM): what hubs and clients trust.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A certificate for the hub named `name` (its federation name, the subject `CN`), valid for
    /// the IP addresses and DNS names in `names`, for serving (`serverAuth`) and for calling peers
    /// (`clientAuth`), with a fresh key.
    pub fn hub_cert(&self, name: &str, names: &[&str]) -> anyhow::Result<HubCert> {
        if name.trim().is_empty() {
            bail!("a hub certificate needs the hub's name");
        }
        let key = KeyPair::generate().with_context(|| format!("cannot make hub {name:?}'s key"))?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, ORGANIZATION);
        dn.push(DnType::OrganizationalUnitName, HUB_UNIT);
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.subject_alt_names = names
            .iter()
            .map(|n| match n.parse::<IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => Ok(SanType::DnsName(
                    (*n).try_into().with_context(|| format!("{n:?} is neither an IP address nor a DNS name"))?,
                )),
            })
            .collect::<anyhow::Result<_>>()?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(serial()?);
        validity(&mut params);
        let cert =
            params.signed_by(&key, &self.issuer).with_context(|| format!("cannot sign hub {name:?}'s certificate"))?;
        Ok(HubCert { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }

    /// Writes the CA's certificate to `DIR/ca.pem` and its key to `DIR/ca.key` (mode 0600),
    /// creating `DIR` (mode 0700) if absent.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        hub::keys::create_private_dir(dir)?;
        write_public(&dir.join("ca.pem"), &self.cert_pem)?;
        write_private(&dir.join("ca.key"), &self.key_pem)
    }
}

/// Where a hub's TLS files go: the paths its `[federation]` table names (`ca`, `cert`, `key`).
#[derive(Clone, Copy, Debug)]
pub struct HubPaths<'a> {
    /// The federation CA's certificate.
    pub ca: &'a Path,
    /// The hub's certificate.
    pub cert: &'a Path,
    /// The hub's private key.
    pub key: &'a Path,
}

/// Writes the CA's certificate, the hub's certificate and its key (mode 0600) where `paths`
/// says, replacing files already there and creating their folders (mode 0700).
pub fn write_hub_files(ca: &FederationCa, hub: &HubCert, paths: HubPaths<'_>) -> anyhow::Result<()> {
    for p in [paths.ca, paths.cert, paths.key] {
        if let Some(dir) = p.parent() {
            hub::keys::create_private_dir(dir)?;
        }
    }
    write_public(paths.ca, ca.cert_pem())?;
    write_public(paths.cert, &hub.cert_pem)?;
    write_private(paths.key, &hub.key_pem)
}

fn write_public(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes `text` to `path` with mode 0600 (an existing file is replaced, not rewritten in place,
/// so that it never holds the new key with its old, wider mode).
pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let at = || format!("cannot write {}", path.display());
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(at),
    }
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).with_context(at)?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).with_context(at)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;

    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

    use super::*;

    fn der(pem: &str) -> CertificateDer<'static> {
        CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
    }

    fn roots(ca: &FederationCa) -> Arc<rustls::RootCertStore> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der(ca.cert_pem())).unwrap();
        Arc::new(roots)
    }

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    #[test]
    fn hub_certificates_chain_to_the_ca_for_serving_and_calling_peers() {
        let ca = FederationCa::generate().unwrap();
        let hub = ca.hub_cert("co", LOOPBACK_NAMES).unwrap();
        let leaf = der(&hub.cert_pem);
        let now = UnixTime::now();
        // As a server, for 127.0.0.1 and localhost: what a peer (and curl --cacert) checks.
        let server =
            rustls::client::WebPkiServerVerifier::builder_with_provider(roots(&ca), provider()).build().unwrap();
        for name in ["127.0.0.1", "localhost"] {
            let name = ServerName::try_from(name).unwrap();
            server.verify_server_cert(&leaf, &[], &name, &[], now).unwrap();
        }
        let elsewhere = ServerName::try_from("example.org").unwrap();
        assert!(server.verify_server_cert(&leaf, &[], &elsewhere, &[], now).is_err());
        // As a client: what a peer's server checks in mutual TLS.
        let client =
            rustls::server::WebPkiClientVerifier::builder_with_provider(roots(&ca), provider()).build().unwrap();
        client.verify_client_cert(&leaf, &[], now).unwrap();
        // A certificate of another federation's CA is refused.
        let other = FederationCa::generate().unwrap().hub_cert("co", LOOPBACK_NAMES).unwrap();
        assert!(server
            .verify_server_cert(&der(&other.cert_pem), &[], &ServerName::try_from("localhost").unwrap(), &[], now)
            .is_err());
        assert!(client.verify_client_cert(&der(&other.cert_pem), &[], now).is_err());
        // The key is the certificate's, and the hub's TLS reads both.
        assert!(PrivateKeyDer::from_pem_slice(hub.key_pem.as_bytes()).is_ok());
    }

    #[test]
    fn hub_certificates_name_the_hub() {
        let ca = FederationCa::generate().unwrap();
        let hub = ca.hub_cert("tx", LOOPBACK_NAMES).unwrap();
        let leaf = der(&hub.cert_pem);
        // The subject is DER in the certificate: its strings appear as they are.
        let bytes = leaf.as_ref();
        let has = |s: &str| bytes.windows(s.len()).any(|w| w == s.as_bytes());
        assert!(has(ORGANIZATION) && has(HUB_UNIT) && has("tx"));
        assert!(ca.hub_cert(" ", LOOPBACK_NAMES).is_err());
        assert!(ca.hub_cert("x", &["h\u{e9}te"]).is_err(), "a DNS name is ASCII");
        // The hub's own TLS settings take the pair (as `serve_tls` loads them).
        let dir = tempfile::tempdir().unwrap();
        let (ca_path, cert, key) =
            (dir.path().join("tls/ca.pem"), dir.path().join("tls/hub.pem"), dir.path().join("tls/hub.key"));
        let paths = HubPaths { ca: &ca_path, cert: &cert, key: &key };
        write_hub_files(&ca, &hub, paths).unwrap();
        let files = hub::tls::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: Some(ca_path.clone()),
            client_crls: vec![],
        };
        files.config().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&key), 0o600);
        assert_eq!(mode(&dir.path().join("tls")), 0o700);
        // Written again (a rerun): replaced, still private.
        write_hub_files(&ca, &ca.hub_cert("tx", LOOPBACK_NAMES).unwrap(), paths).unwrap();
        assert_eq!(mode(&key), 0o600);
        assert_ne!(std::fs::read_to_string(&key).unwrap(), hub.key_pem);
    }
}
