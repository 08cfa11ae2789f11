//! The accept loop: bounded connections, HTTP/1.1 with timeouts, graceful drain on shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::app::App;
use crate::notify::{notify, Severity};
use crate::pipeline;

/// A client has this long to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Bounds the bytes buffered for one request's headers.
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Serves until `shutdown` resolves, then stops accepting and gives in-flight requests up to
/// the configured grace period to finish.
pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(app.config.max_connections));
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
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .max_header_size(MAX_HEADER_BYTES)
            .serve_connection(TokioIo::new(stream), service(app.clone(), peer));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Errors here are clients hanging up or sending garbage: nothing to report.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    // Live streams never end by themselves; end them so the drain below can finish.
    app.live.close();
    let grace = Duration::from_secs(app.config.shutdown_grace_secs);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            notify(Severity::Warning, "shutdown_timeout", format_args!("connections still open after {grace:?}; closing them"));
        }
    }
}

fn service(
    app: Arc<App>,
    peer: SocketAddr,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = crate::http::Response,
    Error = Infallible,
    Future = impl Future<Output = Result<crate::http::Response, Infallible>> + Send,
> + Clone {
    service_fn(move |req| {
        let app = app.clone();
        async move { Ok(pipeline::handle(app, req, peer).await) }
    })
}
