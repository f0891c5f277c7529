//! Hub-to-hub requests on the hub's own runtime: HTTP/1.1 over mutual TLS (rustls with ring), a
//! pool of open connections per peer. A forwarded request then crosses no thread but the
//! runtime's own (a blocking client would hand it to a blocking thread and back).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::HubError;

/// The most bytes of a peer's answer that are read.
const MAX_ANSWER: usize = 16 << 20;

/// Where one peer is reached.
struct Target {
    host: String,
    port: u16,
    server_name: ServerName<'static>,
    /// `host:port`, for the `Host` header.
    authority: String,
    /// Open connections, idle.
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

/// HTTPS client for the peers, presenting this hub's certificate.
pub struct PeerClient {
    tls: tokio_rustls::TlsConnector,
    targets: Vec<Target>,
    timeout: Duration,
}

impl std::fmt::Debug for PeerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let peers: Vec<&str> = self.targets.iter().map(|t| t.authority.as_str()).collect();
        f.debug_struct("PeerClient").field("peers", &peers).finish_non_exhaustive()
    }
}

impl PeerClient {
    /// A client for the peers at `urls` (`https://host[:port]`), trusting the CA in `ca` and
    /// presenting `cert` and `key` (PEM files); the error names the file or URL at fault.
    pub fn new(
        ca: &std::path::Path,
        cert: &std::path::Path,
        key: &std::path::Path,
        urls: &[&str],
        timeout: Duration,
    ) -> Result<Self, HubError> {
        let bad =
            |path: &std::path::Path, e: &dyn std::fmt::Display| HubError::Config(format!("{}: {e}", path.display()));
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(ca).map_err(|e| bad(ca, &e))? {
            roots.add(c.map_err(|e| bad(ca, &e))?).map_err(|e| bad(ca, &e))?;
        }
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| bad(cert, &e))?
            .collect::<Result<_, _>>()
            .map_err(|e| bad(cert, &e))?;
        let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, &e))?;
        let mut config =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| HubError::Config(e.to_string()))?
                .with_root_certificates(roots)
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| bad(cert, &e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let targets = urls
            .iter()
            .map(|url| {
                let uri: hyper::Uri = url.parse().map_err(|e| HubError::Config(format!("peer url {url:?}: {e}")))?;
                if uri.scheme_str() != Some("https") {
                    return Err(HubError::Config(format!("peer url {url:?}: hub-to-hub traffic is https")));
                }
                let host = uri.host().unwrap_or_default().trim_matches(['[', ']']).to_string();
                let port = uri.port_u16().unwrap_or(443);
                let server_name = ServerName::try_from(host.clone())
                    .map_err(|e| HubError::Config(format!("peer url {url:?}: {e}")))?;
                let authority = uri.authority().map(|a| a.to_string()).unwrap_or_else(|| host.clone());
                Ok(Target { host, port, server_name, authority, idle: Mutex::new(Vec::new()) })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { tls: tokio_rustls::TlsConnector::from(Arc::new(config)), targets, timeout })
    }

    /// POSTs `body` (JSON) to `path` of peer `peer`; returns the status and the answer's bytes.
    /// The whole exchange must end within the client's timeout.
    pub async fn post(&self, peer: usize, path: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>), String> {
        match tokio::time::timeout(self.timeout, self.exchange(peer, path, Bytes::from(body))).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {} s", self.timeout.as_secs())),
        }
    }

    async fn exchange(&self, peer: usize, path: &str, body: Bytes) -> Result<(u16, Vec<u8>), String> {
        let target = self.targets.get(peer).ok_or("no such peer")?;
        let request = |body: Bytes| {
            hyper::Request::post(path)
                .header(hyper::header::HOST, &target.authority)
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .body(Full::new(body))
                .map_err(|e| e.to_string())
        };
        // An idle connection first; one the peer closed meanwhile gives the request back unsent,
        // and it goes on a new connection (never sent twice).
        let mut req = request(body)?;
        let (sender, response) = loop {
            let pooled = target.idle.lock().ok().and_then(|mut v| v.pop());
            let (mut sender, fresh) = match pooled {
                Some(s) if !s.is_closed() => (s, false),
                Some(_) => continue,
                None => (self.connect(target).await?, true),
            };
            if sender.ready().await.is_err() {
                if fresh {
                    return Err("the connection closed before the request was sent".into());
                }
                continue;
            }
            match sender.try_send_request(req).await {
                Ok(r) => break (sender, r),
                Err(mut e) => match e.take_message() {
                    Some(back) if !fresh => req = back,
                    _ => return Err(e.into_error().to_string()),
                },
            }
        };
        let status = response.status().as_u16();
        let bytes = Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?
            .to_bytes();
        if !sender.is_closed() {
            if let Ok(mut idle) = target.idle.lock() {
                idle.push(sender);
            }
        }
        Ok((status, bytes.to_vec()))
    }

    async fn connect(&self, target: &Target) -> Result<SendRequest<Full<Bytes>>, String> {
        let tcp = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|e| format!("connecting to {}: {e}", target.authority))?;
        let _ = tcp.set_nodelay(true);
        let tls = self
            .tls
            .connect(target.server_name.clone(), tcp)
            .await
            .map_err(|e| format!("TLS with {}: {e}", target.authority))?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| format!("HTTP with {}: {e}", target.authority))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CA and a certificate it signed, written to `dir` as ca.pem, hub.pem, hub.key.
    fn pki(dir: &std::path::Path) {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_key = rcgen::KeyPair::generate().unwrap();
        std::fs::write(dir.join("ca.pem"), params.self_signed(&ca_key).unwrap().pem()).unwrap();
        let issuer = rcgen::Issuer::new(params, ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().signed_by(&key, &issuer);
        std::fs::write(dir.join("hub.pem"), cert.unwrap().pem()).unwrap();
        std::fs::write(dir.join("hub.key"), key.serialize_pem()).unwrap();
    }

    #[test]
    fn urls_and_files_are_checked_and_named() {
        let dir = tempfile::tempdir().unwrap();
        pki(dir.path());
        let (ca, cert, key) = (dir.path().join("ca.pem"), dir.path().join("hub.pem"), dir.path().join("hub.key"));
        let t = Duration::from_secs(1);
        let client = PeerClient::new(&ca, &cert, &key, &["https://127.0.0.1:8444", "https://hub.example"], t).unwrap();
        assert_eq!(format!("{client:?}"), r#"PeerClient { peers: ["127.0.0.1:8444", "hub.example"], .. }"#);
        assert_eq!(client.targets[1].port, 443);
        let e = PeerClient::new(&ca, &cert, &key, &["http://127.0.0.1:8444"], t).unwrap_err().to_string();
        assert!(e.contains("http://127.0.0.1:8444") && e.contains("https"), "{e}");
        let missing = dir.path().join("nope.key");
        let e = PeerClient::new(&ca, &cert, &missing, &[], t).unwrap_err().to_string();
        assert!(e.contains("nope.key"), "{e}");
        let e = PeerClient::new(&cert, &cert, &ca, &[], t).unwrap_err().to_string();
        assert!(e.contains("ca.pem"), "a certificate given as the key: {e}");
    }

    #[tokio::test]
    async fn a_peer_that_is_not_there_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        pki(dir.path());
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("https://127.0.0.1:{port}");
        let (ca, cert, key) = (dir.path().join("ca.pem"), dir.path().join("hub.pem"), dir.path().join("hub.key"));
        let client = PeerClient::new(&ca, &cert, &key, &[&url], Duration::from_secs(2)).unwrap();
        let e = client.post(0, "/v1/federation/requests", b"{}".to_vec()).await.unwrap_err();
        assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
        assert!(client.post(1, "/", Vec::new()).await.is_err(), "no such peer");
    }
}
