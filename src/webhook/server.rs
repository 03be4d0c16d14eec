//! The receiver's life: binding, serving, handing events to the handler, and shutting down.

use super::dedup::DedupWindow;
use super::intake::Intake;
use super::request::{receive, Ingress, Route};
use super::stats::{bump, Counters, WebhookStats};
use super::WebhookError;
use crate::events::Event;
use axum::Router;
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub(super) type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
pub(super) type HandlerFn = dyn Fn(Event) -> HandlerFuture + Send + Sync;

/// What the builder checked, for [`start`].
pub(super) struct Settings {
    pub listen: SocketAddr,
    /// The path without a trailing `/` (empty for `/`).
    pub base: String,
    pub secret: Option<String>,
    pub allow: Option<HashSet<String>>,
    pub dedup: Option<(usize, Duration)>,
    pub queue_capacity: usize,
    pub max_body_bytes: usize,
    pub sink: Sink,
}

/// Where accepted deliveries go.
pub(super) enum Sink {
    /// The receiver's queue, and its dispatcher calling the handler.
    Handler(Arc<HandlerFn>),
    /// An intake that keeps them and answers for them.
    Intake(Arc<dyn Intake>),
}

/// The path to give GeWe, secret segment included.
fn callback_path(settings: &Settings) -> String {
    match &settings.secret {
        Some(secret) => format!("{}/{secret}", settings.base),
        None if settings.base.is_empty() => "/".to_owned(),
        None => settings.base.clone(),
    }
}

/// The request handler's shared state, and the dispatcher task when there is a handler.
fn build(settings: Settings, stats: &Arc<Counters>) -> (Arc<Ingress>, Option<JoinHandle<()>>) {
    let (route, dispatcher) = match settings.sink {
        Sink::Handler(handler) => {
            let (tx, rx) = mpsc::channel(settings.queue_capacity);
            let task = tokio::spawn(dispatch(rx, handler, Arc::clone(stats)));
            (Route::Queue(tx), Some(task))
        }
        Sink::Intake(intake) => (Route::Intake(intake), None),
    };
    let ingress = Arc::new(Ingress {
        base: settings.base,
        secret: settings.secret.map(String::into_bytes),
        allow: settings.allow,
        max_body_bytes: settings.max_body_bytes,
        dedup: settings
            .dedup
            .map(|(capacity, max_age)| Mutex::new(DedupWindow::new(capacity, max_age))),
        route,
        stats: Arc::clone(stats),
    });
    (ingress, dispatcher)
}

/// A router that answers GeWe's deliveries at the callback path, to mount in another axum
/// app, and that path. Needs a tokio runtime when there is a handler.
#[cfg_attr(not(feature = "bot"), allow(dead_code))]
pub(super) fn router(settings: Settings) -> (Router, String) {
    let path = callback_path(&settings);
    let stats = Arc::new(Counters::default());
    // The dispatcher, when there is one, lives as long as the router's queue.
    let (ingress, _dispatcher) = build(settings, &stats);
    // One route, not a fallback, so that it merges into an app that has a fallback of its own.
    let router = Router::new()
        .route(&path, axum::routing::any(receive))
        .with_state(ingress);
    (router, path)
}

/// Binds the address and starts serving, on the current tokio runtime.
pub(super) async fn start(settings: Settings) -> Result<RunningWebhook, WebhookError> {
    let listener =
        TcpListener::bind(settings.listen)
            .await
            .map_err(|source| WebhookError::Bind {
                addr: settings.listen,
                source,
            })?;
    let local_addr = listener.local_addr().map_err(|source| WebhookError::Bind {
        addr: settings.listen,
        source,
    })?;
    let callback_path = callback_path(&settings);
    let stats = Arc::new(Counters::default());
    let (ingress, dispatcher) = build(settings, &stats);
    let app = Router::new().fallback(receive).with_state(ingress);
    let (stop, stopped) = oneshot::channel::<()>();
    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
        // A send or the drop of the sender is the signal.
        let _ = stopped.await;
    });
    let server = tokio::spawn(async move {
        if let Err(error) = serve.await {
            tracing::error!(%error, "gewe webhook server stopped with an error");
        }
    });
    tracing::info!(%local_addr, path = %callback_path, "gewe webhook listening");
    Ok(RunningWebhook {
        local_addr,
        callback_path,
        stop: Some(stop),
        server: Some(server),
        dispatcher,
        stats,
    })
}

/// A running receiver. Dropping it starts the same graceful shutdown as
/// [`shutdown`](Self::shutdown) in the background, without waiting for it.
pub struct RunningWebhook {
    local_addr: SocketAddr,
    callback_path: String,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    dispatcher: Option<JoinHandle<()>>,
    stats: Arc<Counters>,
}

impl fmt::Debug for RunningWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningWebhook")
            .field("local_addr", &self.local_addr)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl RunningWebhook {
    /// The address it listens on (the actual port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The path to give GeWe, secret segment included (`/callback/k3J9xQ`).
    pub fn callback_path(&self) -> &str {
        &self.callback_path
    }

    /// What it has seen so far.
    pub fn stats(&self) -> WebhookStats {
        self.stats.snapshot()
    }

    /// Stops accepting connections, lets in-flight requests finish, then hands every queued
    /// event to the handler and waits for the last one to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // The server task owns the queue's sender: once it ends, the dispatcher drains the
        // queue and ends too.
        for task in [self.server.take(), self.dispatcher.take()]
            .into_iter()
            .flatten()
        {
            if let Err(error) = task.await {
                tracing::error!(%error, "gewe webhook task failed");
            }
        }
        tracing::info!(addr = %self.local_addr, "gewe webhook stopped");
    }

    /// Serves until `signal` completes (e.g. `tokio::signal::ctrl_c()`), then
    /// [shuts down](Self::shutdown).
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        signal.await;
        self.shutdown().await;
    }
}

/// Classifies queued deliveries and hands them to the handler one at a time until the queue is
/// closed and empty.
async fn dispatch(mut rx: mpsc::Receiver<Value>, handler: Arc<HandlerFn>, stats: Arc<Counters>) {
    while let Some(delivery) = rx.recv().await {
        match run_caught(handler.as_ref(), delivery).await {
            Ok(Ok(())) => bump(&stats.handled),
            Ok(Err(error)) => {
                bump(&stats.handler_errors);
                tracing::warn!(%error, "gewe webhook: the handler returned an error");
            }
            Err(panic) => {
                bump(&stats.handler_panics);
                let error = panic_message(panic.as_ref());
                tracing::error!(%error, "gewe webhook: the handler panicked");
            }
        }
    }
}

/// Classifies `delivery` and runs the handler on it in the dispatcher's own task, catching a
/// panic in the call that makes the future or in any poll of it, so that the dispatcher goes on.
/// A task per event did the same at the cost of a spawn and a wake-up per delivery.
async fn run_caught(
    handler: &HandlerFn,
    delivery: Value,
) -> std::thread::Result<Result<(), String>> {
    let mut future = catch_unwind(AssertUnwindSafe(|| handler(Event::from_value(delivery))))?;
    std::future::poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(result)) => Poll::Ready(Ok(result)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        },
    )
    .await
}

/// A panic's message, when it has one.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}
