//! Scaffolding every vendor simulator shares: a loopback listener with graceful shutdown,
//! the lab state over a vendor's inventory ([`LabCore`]) with its `/_lab/state` and
//! `/_lab/config` routes, injected faults answered in the vendor's own error body,
//! seeded chaos (`--chaos`), the log of applied mutations, the lab clock's own route and
//! the one timestamp format the lab writes. A listener speaks plain HTTP, or HTTPS with a
//! certificate from the lab's own CA ([`LabCa`]).
//!
//! Each vendor's `lab` module builds an axum [`Router`]; this module serves it and wraps it,
//! so fault rules and the mutation log behave the same for every vendor.

mod chaos;
mod chaos_spec;
mod clock;
mod control;
mod core;
pub mod estate;
mod faults;
mod lazy_start;
mod logins;
mod mutation_log;
#[cfg(test)]
pub mod testing;
mod tls;
mod tls_listener;
mod traffic;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::SystemTime;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, header};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::rustls::ServerConfig;

pub use chaos::{Chaos, summary_line as chaos_summary_line, total_counts as chaos_counts};
pub use chaos_spec::{ChaosKind, ChaosSpec};
pub use clock::clock_routes;
pub use control::{LabLogins, LabSettings, config_routes, expire_routes, state_routes};
pub use core::{LabCore, LabInventory};
pub use faults::{Faults, with_faults};
pub use lazy_start::LazyStart;
pub use logins::{Logins, basic_credentials, seeded_uuid};
pub use mutation_log::MutationLog;
pub use tls::LabCa;
pub use traffic::Traffic;

/// One simulator served on `127.0.0.1`; dropping it stops the server too.
#[derive(Debug)]
pub struct LabListener {
    /// The bound address, with the real port when port 0 was asked for.
    pub addr: SocketAddr,
    /// `https` when the listener serves TLS, else `http`.
    scheme: &'static str,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl LabListener {
    /// Base URL of the listener, e.g. `http://127.0.0.1:41234`, or `https://…` over TLS.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops accepting connections and waits for requests in flight to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            // The server may have ended already; then there is nobody left to tell.
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => tracing::warn!("lab listener {} ended with {err}", self.addr),
                Err(err) => tracing::warn!("lab listener {} panicked: {err}", self.addr),
            }
        }
    }
}

impl Drop for LabListener {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves `router` on `127.0.0.1:{port}` (0 picks a free port) on the current tokio
/// runtime, counting and recording the requests it serves ([`Traffic`]): plain HTTP, or
/// HTTPS with `tls`.
pub async fn serve(
    router: Router,
    port: u16,
    tls: Option<Arc<ServerConfig>>,
) -> std::io::Result<LabListener> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(|err| {
            let what = if err.kind() == std::io::ErrorKind::AddrInUse {
                "is already in use; pick another with --port, or 0 for free ones".to_owned()
            } else {
                format!("cannot be opened: {err}")
            };
            std::io::Error::new(err.kind(), format!("port {port} on 127.0.0.1 {what}"))
        })?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let app = traffic::counting(with_scheme(router, scheme));
    let (stop, stopped) = oneshot::channel::<()>();
    // A dropped sender means the listener handle is gone: stop as well.
    let stopped = async {
        let _ = stopped.await;
    };
    let task = match tls {
        None => tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stopped)
                .await
        }),
        Some(config) => {
            let listener = tls_listener::TlsListener::new(listener, config)?;
            tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await
            })
        }
    };
    Ok(LabListener {
        addr,
        scheme,
        stop: Some(stop),
        task: Some(task),
    })
}

/// The header in which the listener tells its simulator the scheme it serves, as a
/// proxy in front of a vendor's API does; a client's own value is overwritten.
const SCHEME_HEADER: &str = "x-forwarded-proto";

fn with_scheme(router: Router, scheme: &'static str) -> Router {
    router.layer(axum::middleware::map_request(
        move |mut request: axum::extract::Request| async move {
            request
                .headers_mut()
                .insert(SCHEME_HEADER, HeaderValue::from_static(scheme));
            request
        },
    ))
}

/// The listener's own base URL, from the `Host` the client used and the scheme the
/// listener serves, for the links a simulator hands out (task and upload URLs).
pub fn base_url(headers: &HeaderMap) -> String {
    let text = |name| {
        headers
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
    };
    let scheme = match text(SCHEME_HEADER) {
        Some("https") => "https",
        _ => "http",
    };
    format!(
        "{scheme}://{}",
        text(header::HOST.as_str()).unwrap_or("localhost")
    )
}

/// Formats lab time the way the vendors do: RFC 3339 in UTC to the second,
/// e.g. `2025-03-01T02:00:00Z`.
pub fn timestamp(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

/// A `400 {"error": message}` for the lab's own `/_lab/` routes.
pub fn control_error(message: String) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    (
        axum::http::StatusCode::BAD_REQUEST,
        axum::Json(serde_json::json!({ "error": message })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn fetch(addr: SocketAddr, path: &str) -> std::io::Result<String> {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        Ok(response)
    }

    #[tokio::test]
    async fn serves_on_an_ephemeral_loopback_port_until_shut_down() {
        let router = Router::new().route("/ping", get(|| async { "pong" }));
        let listener = serve(router, 0, None).await.unwrap();
        assert!(listener.addr.ip().is_loopback());
        assert_ne!(listener.addr.port(), 0);
        assert_eq!(
            listener.url(),
            format!("http://127.0.0.1:{}", listener.addr.port())
        );
        let addr = listener.addr;
        let response = fetch(addr, "/ping").await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("pong"), "{response}");
        listener.shutdown().await;
        assert!(fetch(addr, "/ping").await.is_err());
    }

    #[test]
    fn timestamps_are_utc_to_the_second() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_740_794_400_250);
        assert_eq!(timestamp(at), "2025-03-01T02:00:00Z");
    }
}
