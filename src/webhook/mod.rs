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
//! | any other JSON object, with or without `TypeName` | 200 | yes, as [`Event::from_value`](crate::events::Event::from_value) |
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

mod builder;
mod dedup;
mod error;
#[cfg(fuzzing)]
mod fuzzing;
// Only the bot hands deliveries to an intake.
#[cfg_attr(not(feature = "bot"), allow(dead_code))]
mod intake;
mod request;
mod server;
mod stats;

pub use builder::{WebhookBuilder, WebhookServer};
pub use dedup::DedupWindow;
pub use error::WebhookError;
#[cfg(fuzzing)]
#[doc(hidden)]
pub use fuzzing::FuzzReceiver;
pub use server::RunningWebhook;
pub use stats::WebhookStats;

#[cfg(feature = "bot")]
pub(crate) use intake::{Incoming, Intake, Verdict};

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

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
