//! The HTTP(S) client the ledger's network parts share: the witness client, the tile fetcher, and
//! (in the hub) the calls between federated hubs. TLS is rustls with the ring provider; a private
//! CA (PEM) replaces the public roots, and a client certificate makes it mutual TLS.

use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

use crate::LedgerError;

/// The TLS settings of [`agent`]: the CA to trust (PEM; none: the platform's roots are not
/// available, so only plain `http://` works) and this side's certificate chain and key (PEM).
#[derive(Clone, Debug, Default)]
pub struct Tls {
    /// The CA certificates that servers must chain to (PEM).
    pub ca_pem: Option<Vec<u8>>,
    /// This side's certificate chain and private key (PEM), for mutual TLS.
    pub client_pem: Option<(Vec<u8>, Vec<u8>)>,
}

impl Tls {
    /// Reads the CA and, when given, this side's certificate and key from PEM files; the error
    /// names the file.
    pub fn from_files(
        ca: &std::path::Path,
        client: Option<(&std::path::Path, &std::path::Path)>,
    ) -> Result<Self, LedgerError> {
        let read = |p: &std::path::Path| {
            std::fs::read(p).map_err(|e| LedgerError::Io { what: p.display().to_string(), why: e.to_string() })
        };
        let client_pem = match client {
            Some((cert, key)) => Some((read(cert)?, read(key)?)),
            None => None,
        };
        Ok(Self { ca_pem: Some(read(ca)?), client_pem })
    }
}

/// An agent for plain `http://` that answers every HTTP status (no status is an error), with
/// `timeout` for a whole call. It follows no redirect: a witness, a peer or a published log
/// answers where it was asked, and a client certificate is never offered to a host it sends us to.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// Like [`agent`], for HTTPS: servers must chain to `tls`'s CA, and its client certificate (if
/// any) is presented. The error names what in the PEM could not be read.
pub fn tls_agent(tls: &Tls, timeout: Duration) -> Result<ureq::Agent, LedgerError> {
    let bad = |what: &str, e: ureq::Error| LedgerError::Config(format!("{what}: {e}"));
    let mut roots = Vec::new();
    if let Some(ca) = &tls.ca_pem {
        for item in ureq::tls::parse_pem(ca) {
            if let ureq::tls::PemItem::Certificate(c) = item.map_err(|e| bad("CA certificate", e))? {
                roots.push(c);
            }
        }
        if roots.is_empty() {
            return Err(LedgerError::Config("the CA file holds no PEM certificate".into()));
        }
    }
    let mut builder = TlsConfig::builder()
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .root_certs(RootCerts::new_with_certs(&roots));
    if let Some((cert, key)) = &tls.client_pem {
        let chain: Vec<Certificate<'static>> = ureq::tls::parse_pem(cert)
            .filter_map(|i| match i {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<_, _>>()
            .map_err(|e| bad("client certificate", e))?;
        if chain.is_empty() {
            return Err(LedgerError::Config("the client certificate file holds no PEM certificate".into()));
        }
        let key = PrivateKey::from_pem(key).map_err(|e| bad("client key", e))?;
        builder = builder.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
    }
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .tls_config(builder.build())
        .build()
        .into())
}
