//! The receiver's settings: [`WebhookServer::builder`] and its checks.

use super::intake::Intake;
use super::server::{self, HandlerFn, HandlerFuture, RunningWebhook, Settings, Sink};
use super::{
    WebhookError, DEFAULT_DEDUP_CAPACITY, DEFAULT_DEDUP_MAX_AGE, DEFAULT_LISTEN,
    DEFAULT_MAX_BODY_BYTES, DEFAULT_QUEUE_CAPACITY,
};
use crate::events::Event;
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

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
            intake: None,
        }
    }
}

/// Configures and starts a webhook receiver. See the [module documentation](super).
pub struct WebhookBuilder {
    listen: SocketAddr,
    path: String,
    secret: Option<String>,
    allow: Option<HashSet<String>>,
    dedup: Option<(usize, Duration)>,
    queue_capacity: usize,
    max_body_bytes: usize,
    handler: Option<Arc<HandlerFn>>,
    intake: Option<Arc<dyn Intake>>,
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
    /// [`DedupWindow`](super::DedupWindow) for its memory. A `capacity` of 0 turns deduplication off.
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

    /// Hands accepted deliveries to `intake` instead of the queue, dedup window and handler;
    /// the answer to GeWe waits for the intake's verdict.
    #[cfg_attr(not(feature = "bot"), allow(dead_code))]
    pub(crate) fn intake(mut self, intake: Arc<dyn Intake>) -> Self {
        self.intake = Some(intake);
        self
    }

    /// The receiver as a router to mount in another axum app, and the callback path it answers
    /// at (secret segment included), without binding an address.
    #[cfg_attr(not(feature = "bot"), allow(dead_code))]
    pub(crate) fn into_router(self) -> Result<(axum::Router, String), WebhookError> {
        Ok(server::router(self.settings()?))
    }

    /// Binds the address and starts serving, on the current tokio runtime.
    ///
    /// # Errors
    /// [`WebhookError::Config`] for no handler, a zero queue capacity, a path not starting with
    /// `/`, or a bad secret; [`WebhookError::Bind`] when the address cannot be bound.
    pub async fn start(self) -> Result<RunningWebhook, WebhookError> {
        server::start(self.settings()?).await
    }

    /// The settings, checked.
    fn settings(self) -> Result<Settings, WebhookError> {
        let config = |reason: &str| WebhookError::Config(reason.to_owned());
        let sink = match (self.intake, self.handler) {
            (Some(intake), _) => Sink::Intake(intake),
            (None, Some(handler)) => Sink::Handler(handler),
            (None, None) => return Err(config("a handler is required: call .handler(..)")),
        };
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
        Ok(Settings {
            listen: self.listen,
            base,
            secret: self.secret,
            allow: self.allow,
            dedup: self.dedup,
            queue_capacity: self.queue_capacity,
            max_body_bytes: self.max_body_bytes,
            sink,
        })
    }
}
