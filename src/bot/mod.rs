//! A bot runtime: a whole bot in a few lines, ordered per chat, paced, watched over, and safe
//! across a crash (feature `bot`).
//!
//! ```no_run
//! use gewe::bot::{Bot, Context, TextMessage};
//!
//! #[tokio::main]
//! async fn main() -> gewe::Result<()> {
//!     Bot::from_env()?
//!         .on_text(|cx: Context, msg: TextMessage| async move {
//!             if msg.is_private() {
//!                 cx.reply(msg.body()).await?;
//!             }
//!             Ok(())
//!         })
//!         .run()
//!         .await
//! }
//! ```
//!
//! [`Bot::from_env`] reads its [`Settings`] from the environment (`GEWE_TOKEN`,
//! `GEWE_CALLBACK_URL`, …; a missing one is an error naming it). [`Bot::run`] logs in when
//! there is no device (QR code in the terminal), reuses the stored `appId` on a re-login,
//! starts the webhook at a secret path, registers the callback URL, and runs until Ctrl-C or
//! SIGTERM. A token has **one** callback URL for all its devices: registering it replaces
//! another bot's.
//!
//! - **Dispatch.** Events of one chat reach the handlers one at a time, in delivery order;
//!   different chats run concurrently, up to [`Bot::max_concurrent_chats`]. A slow handler
//!   delays only its own chat, never another, nor the answer to GeWe. An error or a panic is
//!   logged and counted ([`RunningBot::stats`]).
//! - **Routing.** Handlers by kind ([`Bot::on_text`], [`Bot::on_image`], [`Bot::on_message`],
//!   [`Bot::on_event`]), by [`Filter`] ([`Bot::on`]: private or group, @-mentioned, senders,
//!   regex), and by command ([`Bot::on_command`], with [`commands!`](crate::commands)). The
//!   first route that matches takes the event. The bot's own messages reach no handler unless
//!   [`Bot::own_messages`] asks.
//! - **Sends.** [`Context::reply`], [`Context::reply_at`], [`Context::quote`],
//!   [`Context::reply_image`], … go through the device's paced queue (GeWe's gaps, never two
//!   at once), bounded by [`Bot::send_queue_capacity`]: a send beyond it, or made while the
//!   device is not online, fails at once ([`BotError::QueueFull`], [`BotError::Offline`]) and
//!   never goes out later. With a `RedisStore`, the gaps and the cap hold across every
//!   process of the deployment: each send takes the device's send turn in Redis (`SendTurn`).
//! - **Health.** See [`DeviceState`]: the bot notices the device going offline, tries
//!   `reconnection`, then re-logins with the same `appId`; [`Bot::on_state_change`] handlers
//!   see every change. With a `RedisStore`, what one process sees every process follows, and
//!   recovery runs in one of them, under a lease.
//! - **Nothing lost, nothing sent twice.** The [`Store`] ([`FileStore`] by default, the file
//!   `GEWE_STORE`; `RedisStore` with `GEWE_STORE=redis://…`, feature `redis`) journals each delivery before GeWe gets its 200 and marks it handled after
//!   its handler; on a restart the rest are handled, and late duplicates dropped. Each send of a
//!   handler is recorded before it goes out and after, so a handler run again after a crash
//!   never sends twice ([`BotError::OutcomeUnknown`] when the crash came mid-send). GeWe sends
//!   no callback for the bot's own sends, so these records are also what
//!   [`Context::recent_sends`] finds, across restarts, for [`Context::revoke`] and
//!   [`Context::quote_sent`].
//! - **In your own server.** [`Bot::mount`] returns an `axum::Router` to merge into your app.

mod builder;
mod calls;
mod command;
mod context;
#[cfg(feature = "mock")]
mod demo;
mod dispatch;
mod error;
mod file_store;
mod filter;
mod health;
mod journal;
#[cfg(feature = "redis")]
mod redis_group;
#[cfg(feature = "redis")]
mod redis_health;
#[cfg(feature = "redis")]
mod redis_lease;
#[cfg(feature = "redis")]
mod redis_pace;
#[cfg(feature = "redis")]
mod redis_store;
#[cfg(feature = "redis")]
mod redis_worker;
mod route;
mod run;
mod send;
mod settings;
mod shared;
mod stats;
pub mod store;

pub use builder::{
    Bot, DEFAULT_CHECK_ONLINE_EVERY, DEFAULT_MAX_CONCURRENT_CHATS, DEFAULT_RETENTION,
    DEFAULT_SEND_QUEUE_CAPACITY, DEFAULT_SHUTDOWN_GRACE, DEFAULT_WORKER_HANDLER_TIMEOUT,
};
pub use command::{split_command, BotCommands, CommandError};
pub use context::Context;
pub use error::BotError;
pub use filter::Filter;
pub use health::{is_offline_error, DeviceState, StateChange};
#[cfg(feature = "redis")]
pub use redis_group::{JournalConsumer, MAX_BLOCK, WORKER_GROUP};
#[cfg(feature = "redis")]
pub use redis_lease::Lease;
#[cfg(feature = "redis")]
pub use redis_pace::{SendTurn, DEFAULT_SEND_TURN_TTL};
#[cfg(feature = "redis")]
pub use redis_store::{
    RedisStore, RedisStoreBuilder, DEFAULT_CLAIM_AFTER, DEFAULT_DEDUP_DAYS, DEFAULT_LEASE,
    DEFAULT_PARTITIONS,
};
pub use route::{FromEvent, HandlerError, HandlerResult, ImageMessage, TextMessage};
pub use run::RunningBot;
pub use send::Receipt;
pub use settings::{Role, Settings, DEFAULT_LISTEN, DEFAULT_STORE};
pub use stats::BotStats;
pub use store::{FileStore, Store};
