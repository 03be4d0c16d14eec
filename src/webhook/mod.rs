//! The webhook receiver: answers GeWe within 3 s, deduplicates, and hands events on.
//!
//! GeWe POSTs each callback (JSON) to the URL set with
//! [`login_set_callback`](crate::Client::login_set_callback) and gives up on a delivery that is
//! not answered within **3 s**. It also delivers some messages more than once (restarts, history
//! sync, retries), sometimes hours apart, and sends a test message when the URL is set.
//! [`WebhookServer`] answers at once and runs the handler apart: each accepted delivery is put
//! into a bounded queue, and one dispatcher task classifies the deliveries (the answer reads only
//! `Appid` and `NewMsgId`, never waiting on classification) and hands the events to the handler
//! one at a time,
//! in arrival order, each in its own task (a handler that panics or fails is logged with
//! `tracing` and the next event is handed on). A handler wanting concurrency spawns its own work.
//!
//! For each request, in this order:
//!
//! | request | answer | handed on |
//! |---|---|---|
//! | another path (or a wrong [secret segment](WebhookBuilder::secret_path)) | 404 | no |
//! | not `POST` | 405 | no |
//! | a body larger than [`max_body_bytes`](WebhookBuilder::max_body_bytes) | 413 | no |
//! | a body that is not JSON, or JSON but not an object | 400 | no |
//! | an object with a top-level `testMsg` (GeWe's test delivery) | 200 | no |
//! | an `Appid` outside the [allowlist](WebhookBuilder::allow_app_ids), or none while one is set | 403 | no |
//! | `Appid` + `Data.NewMsgId` seen within the [dedup window](WebhookBuilder::dedup_window) | 200 | no |
//! | the queue is full, or the server is shutting down | 503 | no |
//! | any other JSON object, with or without `TypeName` | 200 | yes, as [`Event::from_value`] |
//!
//! 4xx answers are logged with `tracing` (`warn`); the server keeps running. A full queue answers
//! 503 so that GeWe's delivery fails visibly instead of being dropped silently, and the delivery
//! is *not* recorded as seen, so a redelivery is accepted. An event without `Data.NewMsgId` (e.g.
//! `Offline`) is never deduplicated.
//!
//! `Appid` and `NewMsgId` are read wherever the delivery's shape keeps them, as
//! [`Event`](crate::events::Event) reads them: `Appid` or `appid` (the snake-case envelope and
//! the flat format), `Data.NewMsgId` or `data.NewMsgId`, the flat `newMsgId`, the mac format's
//! `data.newMsgId`; an id as a number or a string of digits is one id. So one message in two
//! shapes is one message.
//!
//! GeWe documents no signature on callbacks. The [secret path
//! segment](WebhookBuilder::secret_path) (compared in constant time) and the `Appid`
//! [allowlist](WebhookBuilder::allow_app_ids) keep strangers from feeding the bot events.
//!
//! ```no_run
//! # async fn run() -> Result<(), gewe::webhook::WebhookError> {
//! use gewe::events::Event;
//! use gewe::webhook::WebhookServer;
//! use std::time::Duration;
//!
//! let running = WebhookServer::builder()
//!     .listen("0.0.0.0:9919".parse().unwrap())
//!     .path("/callback")
//!     .secret_path("k3J9xQ") // GeWe's callback URL: http://HOST:9919/callback/k3J9xQ
//!     .allow_app_ids(["wx_my_app_id"])
//!     .dedup_window(100_000, Duration::from_secs(24 * 3600))
//!     .handler(|event: Event| async move {
//!         let _ = event.new_msg_id();
//!         Ok::<(), std::io::Error>(())
//!     })
//!     .start()
//!     .await?;
//! // E.g. `async { let _ = tokio::signal::ctrl_c().await; }`:
//! let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! running.run_until(async { let _ = stopped.await; }).await;
//! # Ok(()) }
//! ```

use crate::events::Event;
use crate::Id;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::header::{ALLOW, CONTENT_LENGTH};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hash, Hasher};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The default listen address.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 9919);
/// The default [queue capacity](WebhookBuilder::queue_capacity).
pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;
/// The default [body limit](WebhookBuilder::max_body_bytes): 2 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// The default number of keys the [dedup window](WebhookBuilder::dedup_window) keeps.
pub const DEFAULT_DEDUP_CAPACITY: usize = 65_536;
/// The default age after which a key leaves the [dedup window](WebhookBuilder::dedup_window):
/// 24 h.
pub const DEFAULT_DEDUP_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type HandlerFn = dyn Fn(Event) -> HandlerFuture + Send + Sync;

/// GeWe's callback receiver; start one with [`WebhookServer::builder`].
#[derive(Debug)]
pub struct WebhookServer(());

impl WebhookServer {
    /// A builder with the defaults: listen on [`DEFAULT_LISTEN`] at `/`, no secret, no
    /// allowlist, a dedup window of [`DEFAULT_DEDUP_CAPACITY`] keys for
    /// [`DEFAULT_DEDUP_MAX_AGE`], a queue of [`DEFAULT_QUEUE_CAPACITY`] events, bodies up to
    /// [`DEFAULT_MAX_BODY_BYTES`]. A [handler](WebhookBuilder::handler) is required.
    pub fn builder() -> WebhookBuilder {
        WebhookBuilder {
            listen: DEFAULT_LISTEN,
            path: "/".into(),
            secret: None,
            allow: None,
            dedup: Some((DEFAULT_DEDUP_CAPACITY, DEFAULT_DEDUP_MAX_AGE)),
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            handler: None,
        }
    }
}

/// Configures and starts a webhook receiver. See the [module documentation](self).
pub struct WebhookBuilder {
    listen: SocketAddr,
    path: String,
    secret: Option<String>,
    allow: Option<HashSet<String>>,
    dedup: Option<(usize, Duration)>,
    queue_capacity: usize,
    max_body_bytes: usize,
    handler: Option<Arc<HandlerFn>>,
}

impl fmt::Debug for WebhookBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookBuilder")
            .field("listen", &self.listen)
            .field("path", &self.path)
            .field("secret", &self.secret.as_ref().map(|_| "…"))
            .field("allow", &self.allow)
            .field("dedup", &self.dedup)
            .field("queue_capacity", &self.queue_capacity)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("handler", &self.handler.is_some())
            .finish()
    }
}

impl WebhookBuilder {
    /// The address to listen on (default [`DEFAULT_LISTEN`], loopback only: put a reverse proxy
    /// in front, or listen on `0.0.0.0` for GeWe to reach it). Port 0 picks a free port; see
    /// [`RunningWebhook::local_addr`].
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The path GeWe posts to (default `/`), e.g. `/callback`; matched exactly.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// A secret last path segment: GeWe's callback URL becomes `{path}/{secret}`
    /// (`/callback/k3J9xQ`), and any other path answers 404. Compared in constant time. Only
    /// URL-safe characters (`A-Z a-z 0-9 - . _ ~`) are allowed, at most 256.
    pub fn secret_path(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Accepts only deliveries whose top-level `Appid` is one of `app_ids`; others (and those
    /// without an `Appid`, such as the mac payload shape) answer **403** and are not handed on,
    /// so a misconfigured token shows up as failed deliveries in GeWe's console.
    pub fn allow_app_ids<I, S>(mut self, app_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allow = Some(app_ids.into_iter().map(Into::into).collect());
        self
    }

    /// Remembers the last `capacity` (`Appid`, `Data.NewMsgId`) keys for at most `max_age`, and
    /// answers a delivery whose key it remembers with 200 without handing it on. See
    /// [`DedupWindow`] for its memory. A `capacity` of 0 turns deduplication off.
    pub fn dedup_window(mut self, capacity: usize, max_age: Duration) -> Self {
        self.dedup = (capacity > 0).then_some((capacity, max_age));
        self
    }

    /// Turns deduplication off.
    pub fn no_dedup(mut self) -> Self {
        self.dedup = None;
        self
    }

    /// How many accepted events may wait for the handler (default [`DEFAULT_QUEUE_CAPACITY`]);
    /// when full, deliveries answer 503. Must be at least 1.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// The largest body accepted (default [`DEFAULT_MAX_BODY_BYTES`]); larger ones answer 413.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The handler every accepted event goes to, one at a time, in arrival order. An `Err` is
    /// logged (`warn`, with its `Display`) and a panic is caught and logged (`error`); either
    /// way the next event is handed on.
    pub fn handler<H, Fut, E>(mut self, handler: H) -> Self
    where
        H: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display + Send + 'static,
    {
        self.handler = Some(Arc::new(move |event| {
            let fut = handler(event);
            Box::pin(async move { fut.await.map_err(|e| e.to_string()) }) as HandlerFuture
        }));
        self
    }

    /// Binds the address and starts serving, on the current tokio runtime.
    ///
    /// # Errors
    /// [`WebhookError::Config`] for no handler, a zero queue capacity, a path not starting with
    /// `/`, or a bad secret; [`WebhookError::Bind`] when the address cannot be bound.
    pub async fn start(self) -> Result<RunningWebhook, WebhookError> {
        let config = |reason: &str| WebhookError::Config(reason.to_owned());
        let handler = self
            .handler
            .ok_or_else(|| config("a handler is required: call .handler(..)"))?;
        if self.queue_capacity == 0 {
            return Err(config("queue_capacity must be at least 1"));
        }
        if !self.path.starts_with('/') {
            return Err(config("the path must start with '/'"));
        }
        let base = self.path.trim_end_matches('/').to_owned();
        if let Some(secret) = &self.secret {
            let url_safe = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
            if secret.is_empty() || secret.len() > 256 || !secret.bytes().all(url_safe) {
                return Err(config(
                    "the secret path segment must be 1-256 characters of A-Z a-z 0-9 - . _ ~",
                ));
            }
        }
        let listener =
            TcpListener::bind(self.listen)
                .await
                .map_err(|source| WebhookError::Bind {
                    addr: self.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| WebhookError::Bind {
            addr: self.listen,
            source,
        })?;
        let callback_path = match &self.secret {
            Some(secret) => format!("{base}/{secret}"),
            None if base.is_empty() => "/".to_owned(),
            None => base.clone(),
        };

        let stats = Arc::new(Counters::default());
        let (tx, rx) = mpsc::channel(self.queue_capacity);
        let ingress = Arc::new(Ingress {
            base,
            secret: self.secret.map(String::into_bytes),
            allow: self.allow,
            max_body_bytes: self.max_body_bytes,
            dedup: self
                .dedup
                .map(|(capacity, max_age)| Mutex::new(DedupWindow::new(capacity, max_age))),
            tx,
            stats: Arc::clone(&stats),
        });
        let dispatcher = tokio::spawn(dispatch(rx, handler, Arc::clone(&stats)));
        let (stop, stopped) = oneshot::channel::<()>();
        let app = Router::new().fallback(receive).with_state(ingress);
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
            dispatcher: Some(dispatcher),
            stats,
        })
    }
}

/// Why a webhook receiver could not start.
#[non_exhaustive]
#[derive(Debug)]
pub enum WebhookError {
    /// The builder's settings are invalid; the reason says which.
    Config(String),
    /// The address could not be bound.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: io::Error,
    },
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookError::Config(reason) => write!(f, "invalid webhook configuration: {reason}"),
            WebhookError::Bind { addr, source } => {
                write!(f, "cannot listen on {addr}: {source}")
            }
        }
    }
}

impl std::error::Error for WebhookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WebhookError::Bind { source, .. } => Some(source),
            WebhookError::Config(_) => None,
        }
    }
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

/// Counts of what a [`RunningWebhook`] saw, from [`RunningWebhook::stats`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WebhookStats {
    /// Requests to the callback path.
    pub requests: u64,
    /// Events queued for the handler.
    pub queued: u64,
    /// Deliveries dropped as duplicates (answered 200).
    pub duplicates: u64,
    /// GeWe's test deliveries (answered 200).
    pub test_messages: u64,
    /// Deliveries refused with a 4xx (bad body, too large, not allowed).
    pub rejected: u64,
    /// Deliveries refused with 503 because the queue was full or closing.
    pub queue_full: u64,
    /// Events the handler finished with `Ok`.
    pub handled: u64,
    /// Events the handler returned `Err` for.
    pub handler_errors: u64,
    /// Events the handler panicked on.
    pub handler_panics: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    queued: AtomicU64,
    duplicates: AtomicU64,
    test_messages: AtomicU64,
    rejected: AtomicU64,
    queue_full: AtomicU64,
    handled: AtomicU64,
    handler_errors: AtomicU64,
    handler_panics: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> WebhookStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        WebhookStats {
            requests: get(&self.requests),
            queued: get(&self.queued),
            duplicates: get(&self.duplicates),
            test_messages: get(&self.test_messages),
            rejected: get(&self.rejected),
            queue_full: get(&self.queue_full),
            handled: get(&self.handled),
            handler_errors: get(&self.handler_errors),
            handler_panics: get(&self.handler_panics),
        }
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// What the request handler shares. It alone holds the queue's sender.
struct Ingress {
    /// The path without a trailing `/` (empty for `/`).
    base: String,
    secret: Option<Vec<u8>>,
    allow: Option<HashSet<String>>,
    max_body_bytes: usize,
    dedup: Option<Mutex<DedupWindow>>,
    /// Deliveries, classified by the dispatcher.
    tx: mpsc::Sender<Value>,
    stats: Arc<Counters>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The window is consistent after every call (no panics inside), so poison is harmless.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Ingress {
    fn path_matches(&self, path: &str) -> bool {
        match &self.secret {
            None if self.base.is_empty() => path == "/",
            None => path == self.base,
            Some(secret) => path
                .strip_prefix(self.base.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|segment| constant_time_eq(segment.as_bytes(), secret)),
        }
    }
}

/// Whether `a == b`, in time that depends only on the lengths (never on where they differ).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().max(b.len());
    // Nonzero when the lengths differ; the loop runs over the longer one either way.
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= std::hint::black_box(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

fn status(code: StatusCode) -> Response {
    code.into_response()
}

/// Why a body was refused.
enum BodyError {
    TooLarge,
    Unreadable,
}

/// Reads at most `limit` bytes of `body`.
async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    if body.size_hint().lower() > limit as u64 {
        return Err(BodyError::TooLarge);
    }
    let mut buf = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(frame) = frame else {
            return Err(BodyError::Unreadable);
        };
        if let Ok(data) = frame.into_data() {
            if buf.len().saturating_add(data.len()) > limit {
                return Err(BodyError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}

/// The one request handler. Never waits for the event handler and never panics on input.
async fn receive(State(ingress): State<Arc<Ingress>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if !ingress.path_matches(parts.uri.path()) {
        return status(StatusCode::NOT_FOUND);
    }
    let stats = &ingress.stats;
    bump(&stats.requests);
    if parts.method != Method::POST {
        let mut response = status(StatusCode::METHOD_NOT_ALLOWED);
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > ingress.max_body_bytes as u64) {
        bump(&stats.rejected);
        tracing::warn!(
            content_length = declared,
            limit = ingress.max_body_bytes,
            "gewe webhook: body too large, answered 413"
        );
        return status(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let bytes = match read_body(body, ingress.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            bump(&stats.rejected);
            tracing::warn!(
                limit = ingress.max_body_bytes,
                "gewe webhook: body too large, answered 413"
            );
            return status(StatusCode::PAYLOAD_TOO_LARGE);
        }
        Err(BodyError::Unreadable) => {
            bump(&stats.rejected);
            tracing::warn!("gewe webhook: the body could not be read, answered 400");
            return status(StatusCode::BAD_REQUEST);
        }
    };
    let value = match serde_json::from_slice::<Value>(&bytes) {
        Ok(value @ Value::Object(_)) => value,
        Ok(other) => {
            bump(&stats.rejected);
            tracing::warn!(
                kind = json_kind(&other),
                bytes = bytes.len(),
                "gewe webhook: the body is JSON but not an object, answered 400"
            );
            return status(StatusCode::BAD_REQUEST);
        }
        Err(error) => {
            bump(&stats.rejected);
            tracing::warn!(%error, bytes = bytes.len(), "gewe webhook: the body is not JSON, answered 400");
            return status(StatusCode::BAD_REQUEST);
        }
    };
    if value.get("testMsg").is_some() {
        bump(&stats.test_messages);
        tracing::debug!("gewe webhook: GeWe's test delivery, answered 200");
        return status(StatusCode::OK);
    }
    // Only the keys are read here: classifying waits for the dispatcher, so that GeWe's answer
    // never waits on it.
    let app_id = crate::events::delivery::app_id(&value).map(str::to_owned);
    if let Some(allow) = &ingress.allow {
        if !app_id.as_ref().is_some_and(|a| allow.contains(a)) {
            bump(&stats.rejected);
            tracing::warn!(appid = ?app_id, "gewe webhook: Appid not allowed, answered 403");
            return status(StatusCode::FORBIDDEN);
        }
    }
    // The window stays locked from the check to the send, so two copies arriving together
    // cannot both pass; a refused send is not recorded, so GeWe's retry is accepted.
    let mut window = match (&ingress.dedup, crate::events::delivery::new_msg_id(&value)) {
        (Some(dedup), Some(id)) => {
            let window = lock(dedup);
            let key = window.key(app_id.as_deref(), &id);
            Some((window, key))
        }
        _ => None,
    };
    if let Some((window, key)) = window.as_mut() {
        if window.contains_key(*key) {
            bump(&stats.duplicates);
            tracing::debug!(appid = ?app_id, "gewe webhook: duplicate delivery, answered 200");
            return status(StatusCode::OK);
        }
    }
    match ingress.tx.try_send(value) {
        Ok(()) => {
            if let Some((window, key)) = window.as_mut() {
                window.insert_key(*key);
            }
            drop(window);
            bump(&stats.queued);
            status(StatusCode::OK)
        }
        Err(error) => {
            drop(window);
            bump(&stats.queue_full);
            let why = match error {
                mpsc::error::TrySendError::Full(_) => "the queue is full",
                mpsc::error::TrySendError::Closed(_) => "the handler has stopped",
            };
            tracing::warn!(appid = ?app_id, "gewe webhook: {why}, answered 503");
            status(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Classifies queued deliveries and hands them to the handler one at a time until the queue is
/// closed and empty.
async fn dispatch(mut rx: mpsc::Receiver<Value>, handler: Arc<HandlerFn>, stats: Arc<Counters>) {
    while let Some(delivery) = rx.recv().await {
        let handler = Arc::clone(&handler);
        // Its own task, so that a panic (even in the call that makes the future) is caught as a
        // JoinError instead of ending the dispatcher.
        let task = tokio::spawn(async move { handler(Event::from_value(delivery)).await });
        match task.await {
            Ok(Ok(())) => bump(&stats.handled),
            Ok(Err(error)) => {
                bump(&stats.handler_errors);
                tracing::warn!(%error, "gewe webhook: the handler returned an error");
            }
            Err(error) => {
                bump(&stats.handler_panics);
                tracing::error!(%error, "gewe webhook: the handler panicked");
            }
        }
    }
}

/// The last deliveries' (`Appid`, `Data.NewMsgId`) keys, bounded in count and age, to drop
/// GeWe's duplicate deliveries. [`WebhookServer`] keeps one; it is public for receivers built on
/// another HTTP server.
///
/// Each key is stored as a 128-bit keyed hash (two SipHash-1-3 under random keys), so an entry
/// takes the same room whatever the length of the `Appid`: 16 bytes in the age-ordered ring and
/// 24 bytes (+1 control byte) in the hash table, about 60–80 bytes per entry with the table's
/// spare room (see [`heap_bytes`](Self::heap_bytes)). Two different keys collide with a
/// probability of about 2⁻¹²⁸ per pair. Ages are kept in milliseconds.
///
/// ```
/// use gewe::webhook::DedupWindow;
/// use std::time::Duration;
///
/// let mut window = DedupWindow::new(2, Duration::from_secs(3600));
/// let id: gewe::Id = 7u64.into();
/// assert!(window.check_and_insert(Some("wx_a"), &id));
/// assert!(!window.check_and_insert(Some("wx_a"), &id)); // a duplicate
/// assert!(window.check_and_insert(Some("wx_b"), &id)); // another device
/// assert!(window.check_and_insert(Some("wx_c"), &id)); // evicts wx_a's key
/// assert!(window.check_and_insert(Some("wx_a"), &id));
/// ```
pub struct DedupWindow {
    capacity: usize,
    max_age_ms: u64,
    /// Keys, oldest first.
    order: VecDeque<Key>,
    /// Key → when it was recorded, in ms since `start`.
    seen: HashMap<Key, u64>,
    start: Instant,
    hash_keys: (RandomState, RandomState),
}

impl fmt::Debug for DedupWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DedupWindow")
            .field("capacity", &self.capacity)
            .field("max_age_ms", &self.max_age_ms)
            .field("len", &self.order.len())
            .finish_non_exhaustive()
    }
}

/// A 128-bit key hash; two `u64`s (not a `u128`) to keep the alignment, and the entries, small.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key([u64; 2]);

impl DedupWindow {
    /// A window of at most `capacity` keys, each kept at most `max_age` (at millisecond
    /// resolution). Nothing is allocated until keys arrive.
    pub fn new(capacity: usize, max_age: Duration) -> Self {
        DedupWindow {
            capacity,
            max_age_ms: u64::try_from(max_age.as_millis()).unwrap_or(u64::MAX),
            order: VecDeque::new(),
            seen: HashMap::new(),
            start: Instant::now(),
            hash_keys: (RandomState::new(), RandomState::new()),
        }
    }

    /// Records (`app_id`, `new_msg_id`) and returns `true` when it is new, `false` when it was
    /// recorded within the window (a duplicate).
    pub fn check_and_insert(&mut self, app_id: Option<&str>, new_msg_id: &Id) -> bool {
        let key = self.key(app_id, new_msg_id);
        if self.contains_key(key) {
            return false;
        }
        self.insert_key(key);
        true
    }

    /// How many keys it holds now.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether it holds no key.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The most keys it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The heap memory it holds now, estimated from its containers' capacities: the ring's
    /// slots, and the hash table's buckets (each an entry plus one control byte, plus one group
    /// of control bytes).
    pub fn heap_bytes(&self) -> usize {
        let ring = self.order.capacity() * std::mem::size_of::<Key>();
        let usable = self.seen.capacity();
        let table = if usable == 0 {
            0
        } else {
            // hashbrown keeps 1/8 of the buckets free; buckets are a power of two.
            let buckets = (usable * 8).div_ceil(7).next_power_of_two();
            buckets * (std::mem::size_of::<(Key, u64)>() + 1) + 16
        };
        ring + table
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn key(&self, app_id: Option<&str>, id: &Id) -> Key {
        let hash = |state: &RandomState| {
            let mut h = state.build_hasher();
            // `None` and `Some("")` differ; an `Id` hashes by value, so 7 and "7" are one message.
            app_id.hash(&mut h);
            id.hash(&mut h);
            h.finish()
        };
        Key([hash(&self.hash_keys.0), hash(&self.hash_keys.1)])
    }

    fn expire(&mut self, now: u64) {
        while let Some(oldest) = self.order.front() {
            let recorded = self.seen.get(oldest).copied().unwrap_or(0);
            if now.saturating_sub(recorded) < self.max_age_ms {
                break;
            }
            self.seen.remove(oldest);
            self.order.pop_front();
        }
    }

    fn contains_key(&mut self, key: Key) -> bool {
        let now = self.now_ms();
        self.expire(now);
        self.seen.contains_key(&key)
    }

    /// Records `key`, known to be absent (just checked with `contains_key`).
    fn insert_key(&mut self, key: Key) {
        if self.capacity == 0 {
            return;
        }
        let now = self.now_ms();
        while self.order.len() >= self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        self.order.push_back(key);
        self.seen.insert(key, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_is_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"", b"a"));
        // A zero byte past the end must not pass for "absent".
        assert!(!constant_time_eq(b"ab\0", b"ab"));
    }

    #[test]
    fn dedup_window_expires_by_age() {
        let mut w = DedupWindow::new(10, Duration::from_millis(30));
        let id: Id = 1u64.into();
        assert!(w.check_and_insert(Some("a"), &id));
        assert!(!w.check_and_insert(Some("a"), &id));
        std::thread::sleep(Duration::from_millis(40));
        assert!(w.check_and_insert(Some("a"), &id));
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn dedup_window_is_bounded_and_unifies_id_forms() {
        let mut w = DedupWindow::new(3, Duration::from_secs(60));
        for i in 0..10u64 {
            assert!(w.check_and_insert(Some("a"), &i.into()));
        }
        assert_eq!(w.len(), 3);
        assert!(!w.check_and_insert(Some("a"), &9u64.into()));
        assert!(w.check_and_insert(Some("a"), &0u64.into()));
        let text: Id = serde_json::from_str("\"9\"").expect("id");
        assert!(!w.check_and_insert(Some("a"), &text));
        assert!(w.check_and_insert(None, &9u64.into()));
        assert!(w.check_and_insert(Some(""), &9u64.into()));
    }
}

/// The receiver's request handler without a socket, for `cargo fuzz` (`--cfg fuzzing` only).
#[cfg(fuzzing)]
#[doc(hidden)]
pub struct FuzzReceiver {
    ingress: Arc<Ingress>,
    rx: mpsc::Receiver<Value>,
}

#[cfg(fuzzing)]
impl FuzzReceiver {
    /// A receiver at `/cb` with the secret `s3cret`, dedup on, an allowlist when `allow` is set,
    /// bodies up to `max_body_bytes`.
    pub fn new(allow: Option<Vec<String>>, max_body_bytes: usize) -> Self {
        let (tx, rx) = mpsc::channel(16);
        let ingress = Arc::new(Ingress {
            base: "/cb".to_owned(),
            secret: Some(b"s3cret".to_vec()),
            allow: allow.map(|a| a.into_iter().collect()),
            max_body_bytes,
            dedup: Some(Mutex::new(DedupWindow::new(1024, DEFAULT_DEDUP_MAX_AGE))),
            tx,
            stats: Arc::new(Counters::default()),
        });
        FuzzReceiver { ingress, rx }
    }

    /// Hands one request to the handler; the status, and the event queued for the handler.
    pub async fn deliver(&mut self, request: Request) -> (StatusCode, Option<Event>) {
        let status = receive(State(Arc::clone(&self.ingress)), request)
            .await
            .status();
        (status, self.rx.try_recv().ok().map(Event::from_value))
    }
}
