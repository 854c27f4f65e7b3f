//! Accepting connections so that slow or numerous ones cannot hold the node: a request's
//! header must arrive within a timeout (an idle kept-alive connection is closed after it
//! too), its body within another, and one client network holds at most
//! [`CONNECTIONS_PER_NETWORK`] connections. axum's own `serve` sets none of these.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::node::throttle::network_of;

/// How long a request's header may take to arrive, and a kept-alive connection may
/// idle, unless the operator says otherwise.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request's body may take to arrive, unless the operator says otherwise.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The timeouts a node serves with.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// For a request's header (and an idle connection).
    pub header: Duration,
    /// For a request's body.
    pub body: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header: HEADER_TIMEOUT,
            body: BODY_TIMEOUT,
        }
    }
}
/// Connections one client network (an IPv4 address, an IPv6 /64) may hold at once.
pub const CONNECTIONS_PER_NETWORK: usize = 128;
/// How long open connections get to finish their requests after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Open connections per client network.
#[derive(Clone, Default)]
struct Open(Arc<Mutex<HashMap<String, usize>>>);

/// One open connection, counted until dropped.
struct Counted {
    open: Open,
    network: String,
}

impl Open {
    fn admit(&self, network: String) -> Option<Counted> {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(network.clone()).or_default();
        if *count >= CONNECTIONS_PER_NETWORK {
            return None;
        }
        *count += 1;
        Some(Counted {
            open: self.clone(),
            network,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self.open.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.network) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.network);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open connections
/// finish their requests for up to [`SHUTDOWN_GRACE`]. Requests see the client's
/// address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()>,
) {
    let app = app.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        timeouts.body,
    ));
    let open = Open::default();
    // Dropped at shutdown: every connection's task watches it close.
    let (stop, stopped) = tokio::sync::watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(counted) = open.admit(network_of(&remote.ip().to_string())) else {
            tracing::warn!(%remote, "refused a connection: its network holds too many");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |request: hyper::Request<Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                request.extensions_mut().insert(ConnectInfo(remote));
                request
            });
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let _counted = counted;
            let service = TowerToHyperService::new(service);
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(timeouts.header);
            let mut connection = pin!(builder.serve_connection(TokioIo::new(stream), service));
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%remote, error = %e, "connection ended");
                    }
                    return;
                }
                _ = stopped.changed() => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
        });
    }
    drop(stopped);
    drop(stop);
    // Give connections their grace; they end on their own.
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while !open.0.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
