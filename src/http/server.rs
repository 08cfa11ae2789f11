//! The accept loop: bounded connections overall and per client, HTTP/1.1 with timeouts on the
//! request head, the body and the response, graceful drain on shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::header::{HeaderValue, CONNECTION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::io::WriteTimeout;
use super::request::client_addr;
use super::response;
use super::slots::{client_key, Slot, Slots, RETRY_AFTER_SECS};
use crate::app::App;
use crate::error::{ApiError, ErrorKind};
use crate::http::pipeline;
use crate::notify::{notify, Severity};

/// Bounds the bytes buffered for one request's headers.
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Serves until `shutdown` resolves, then stops accepting and gives in-flight requests up to
/// the configured grace period to finish.
pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(app.config.max_connections));
    let per_client = Slots::new(app.config.max_connections_per_client);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Usually EMFILE: back off instead of spinning on the error.
                    notify(Severity::Warning, "accept_failed", e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let config = &app.config;
        let conn = Arc::new(Connection::accepted(peer, &app, &per_client));
        let stream = WriteTimeout::new(stream, Duration::from_secs(config.write_timeout_secs));
        // hyper restarts this timer whenever it waits for a request head, so it bounds both a
        // slow head and an idle keep-alive connection.
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(config.header_timeout_secs))
            .max_header_size(MAX_HEADER_BYTES)
            .serve_connection(TokioIo::new(stream), service(app.clone(), conn));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Errors here are clients hanging up, timing out or sending garbage: nothing to report.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    // Live streams would otherwise run to their lifetime; end them so the drain below can finish.
    app.live.close();
    let grace = Duration::from_secs(app.config.shutdown_grace_secs);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            notify(Severity::Warning, "shutdown_timeout", format_args!("connections still open after {grace:?}; closing them"));
        }
    }
}

/// One connection's claim on its client's share of connections.
///
/// A direct peer is counted at accept, so sockets that never send a request count too. Behind a
/// trusted proxy the client is known only from a request's `X-Forwarded-For`, and a proxy may
/// reuse one connection for several clients: the connection counts for the client of its
/// latest request.
struct Connection {
    peer: SocketAddr,
    per_client: Arc<Slots>,
    /// Whether this connection is over its client's cap: each request gets 429 and it closes.
    refused: bool,
    slot: Mutex<Option<Slot>>,
}

impl Connection {
    fn accepted(peer: SocketAddr, app: &App, per_client: &Arc<Slots>) -> Connection {
        let ip = peer.ip().to_canonical();
        let behind_proxy = app.config.trusted_proxies.iter().any(|p| p.contains(&ip));
        let (refused, slot) = if behind_proxy {
            (false, None)
        } else {
            match per_client.try_take(ip) {
                Some(slot) => (false, Some(slot)),
                None => (true, None),
            }
        };
        Connection {
            peer,
            per_client: per_client.clone(),
            refused,
            slot: Mutex::new(slot),
        }
    }

    /// Whether the request's client may use this connection, moving the claim to it if needed.
    fn admits(&self, req: &Request<hyper::body::Incoming>, app: &App) -> bool {
        if self.refused {
            return false;
        }
        let client = client_addr(self.peer, req.headers(), &app.config.trusted_proxies);
        let mut slot = self.slot.lock().unwrap();
        if slot.as_ref().is_some_and(|s| s.key() == client_key(client)) {
            return true;
        }
        // Give up the old claim first, so a client is never counted against itself.
        *slot = None;
        *slot = self.per_client.try_take(client);
        slot.is_some()
    }
}

/// 429 for a client over its share, closing the connection so the slot is free at once.
fn refuse(
    app: &App,
    req: &Request<hyper::body::Incoming>,
    peer: SocketAddr,
) -> crate::http::Response {
    let client = client_addr(peer, req.headers(), &app.config.trusted_proxies);
    let message = format!(
        "This address already holds {} open connections, the most one client may; close some \
         or try again later.",
        app.config.max_connections_per_client
    );
    let err =
        ApiError::new(ErrorKind::TooManyConnections, message).with_retry_after(RETRY_AFTER_SECS);
    let mut response = response::error(&err);
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    tracing::info!(target: "wani::request", method = %req.method(), path = req.uri().path(), status = 429, ms = "0", %client);
    response
}

fn service(
    app: Arc<App>,
    conn: Arc<Connection>,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = crate::http::Response,
    Error = Infallible,
    Future = impl Future<Output = Result<crate::http::Response, Infallible>> + Send,
> + Clone {
    service_fn(move |req| {
        let app = app.clone();
        let conn = conn.clone();
        async move {
            if !conn.admits(&req, &app) {
                return Ok(refuse(&app, &req, conn.peer));
            }
            Ok(pipeline::handle(app, req, conn.peer).await)
        }
    })
}
