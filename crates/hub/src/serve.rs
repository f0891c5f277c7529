//! The hub's HTTP/1.1 connections, over TCP or TLS, with the limits that keep slow or numerous
//! clients from locking everyone else out ([`Connections`]):
//!
//! * at most [`Connections::max`] connections open at once (a connection over the cap is closed
//!   as soon as it is accepted, so the listen queue never fills); the hub raises its open-file
//!   limit (`RLIMIT_NOFILE`) to the hard limit at start, and lowers the cap if the files would
//!   not suffice, keeping [`FD_RESERVE`] for the ledger, the data directory and the databases;
//! * a request's headers must arrive within [`Connections::header_timeout`], which is also how
//!   long an idle keep-alive connection is kept;
//! * a whole request, body and answer, must be done within [`Connections::request_timeout`]
//!   (else `408`);
//! * a connection lives at most [`Connections::max_lifetime`], then closes after its current
//!   request (clients reconnect; over TLS that is a new handshake with the settings in force).

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Semaphore};
use tower_service::Service;

use crate::problem::Problem;
use crate::tls::{ClientCert, Handshaker};

/// File descriptors kept free for the hub's own files and databases when the connection cap is
/// fitted under the open-file limit.
pub const FD_RESERVE: u64 = 256;

/// Limits on the hub's connections (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connections {
    /// Most connections open at once (default 4096).
    pub max: usize,
    /// Time allowed for a request's headers, and for an idle keep-alive connection (default 10 s).
    pub header_timeout: Duration,
    /// Time allowed for a whole request, body included (default 30 s).
    pub request_timeout: Duration,
    /// Longest life of a connection (default 10 minutes).
    pub max_lifetime: Duration,
}

impl Default for Connections {
    fn default() -> Self {
        Self {
            max: 4096,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_lifetime: Duration::from_secs(600),
        }
    }
}

/// Raises the soft open-file limit to the hard one; returns the soft limit in force.
pub fn raise_nofile_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit with a valid pointer to an rlimit owned by this frame.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    lim.rlim_cur
}

/// The connection cap that fits under the open-file limit (after raising it).
fn fitted_cap(wanted: usize) -> usize {
    let files = raise_nofile_limit();
    let room = usize::try_from(files.saturating_sub(FD_RESERVE)).unwrap_or(usize::MAX).max(16);
    if wanted > room {
        eprintln!(
            "connection cap lowered from {wanted} to {room}: the open-file limit is {files} (raise it with `ulimit -n`)"
        );
        return room;
    }
    wanted
}

/// Serves `router` on `listener` (over TLS with `tls`) until `shutdown` completes, then lets the
/// requests in flight finish.
pub async fn run<F>(
    listener: TcpListener,
    tls: Option<Handshaker>,
    router: Router,
    limits: Connections,
    shutdown: F,
) -> std::io::Result<()>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let cap = fitted_cap(limits.max);
    let slots = Arc::new(Semaphore::new(cap));
    let tls = tls.map(Arc::new);
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let refused = Arc::new(AtomicU64::new(0));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _addr) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => {
                    // Out of file descriptors or similar: let the others finish, then go on.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            if refused.fetch_add(1, Ordering::Relaxed).is_multiple_of(1000) {
                eprintln!(
                    "connection cap of {cap} reached: connections are closed on accept ({} so far)",
                    refused.load(Ordering::Relaxed)
                );
            }
            drop(stream);
            continue;
        };
        // Answers go out as soon as they are written (no Nagle delay behind the client's
        // delayed ACKs on keep-alive connections).
        let _ = stream.set_nodelay(true);
        let (router, tls, mut stop, done) = (router.clone(), tls.clone(), stop_rx.clone(), done_tx.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let _done = done;
            match tls {
                None => serve_connection(stream, ClientCert::default(), router, limits, &mut stop).await,
                Some(tls) => match tls.handshake(stream).await {
                    Ok((stream, cert)) => serve_connection(stream, cert, router, limits, &mut stop).await,
                    Err(why) if why.starts_with("the certificate") => eprintln!("client certificate refused: {why}"),
                    Err(_) => {} // a failed handshake (wrong CA, plain HTTP, timeout) just closes
                },
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(done_tx);
    let _ = done_rx.recv().await;
    Ok(())
}

async fn serve_connection<IO>(
    io: IO,
    cert: ClientCert,
    router: Router,
    limits: Connections,
    stop: &mut watch::Receiver<bool>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let timeout = limits.request_timeout;
    const UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        let mut router = router.clone();
        req.extensions_mut().insert(cert.clone());
        // An auditor's upload (up to 2 GiB) may take longer than an ordinary request; the
        // connection's lifetime still bounds it.
        let timeout = if req.method() == hyper::Method::POST && req.uri().path() == "/console/audit" {
            timeout.max(UPLOAD_TIMEOUT)
        } else {
            timeout
        };
        async move {
            match tokio::time::timeout(timeout, router.call(req.map(Body::new))).await {
                Ok(Ok(response)) => Ok::<_, Infallible>(response),
                Ok(Err(never)) => match never {},
                Err(_) => Ok(Problem::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "request-timeout",
                    format!("the request was not completed within {} s", timeout.as_secs()),
                )
                .into_response()),
            }
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    let mut conn = std::pin::pin!(conn);
    let lifetime = tokio::time::sleep(limits.max_lifetime);
    let mut lifetime = std::pin::pin!(lifetime);
    let mut closing = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => break,
            _ = &mut lifetime, if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            changed = stop.changed(), if !closing => {
                let _ = changed;
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}
