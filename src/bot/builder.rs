//! [`Bot`]: the handlers and the settings, before the bot runs.

use super::command::BotCommands;
use super::context::Context;
use super::filter::Filter;
use super::health::StateChange;
use super::route::{FromEvent, HandlerResult, ImageMessage, Routes, TextMessage};
use super::settings::Settings;
use super::store::Store;
use crate::events::{Event, Message};
use crate::pacing::PacingConfig;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The default bound of [`Bot::max_concurrent_chats`].
pub const DEFAULT_MAX_CONCURRENT_CHATS: usize = 128;
/// The default bound of [`Bot::send_queue_capacity`].
pub const DEFAULT_SEND_QUEUE_CAPACITY: usize = 100;
/// The default of [`Bot::shutdown_grace`].
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// The default of [`Bot::retention`]: a week.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// The default of [`Bot::check_online_every`].
pub const DEFAULT_CHECK_ONLINE_EVERY: Duration = Duration::from_secs(300);

/// A bot: its settings and handlers. Build one with [`Bot::from_env`], add handlers, then
/// [`run`](Bot::run) it. See the [module documentation](super).
pub struct Bot {
    pub(crate) settings: Settings,
    pub(crate) routes: Routes,
    pub(crate) store: Option<Arc<dyn Store>>,
    /// The store given, when it is a Redis store.
    #[cfg(feature = "redis")]
    pub(crate) redis: Option<super::redis_store::RedisStore>,
    pub(crate) mock: bool,
    pub(crate) max_concurrent_chats: usize,
    pub(crate) send_queue_capacity: usize,
    pub(crate) max_waiting: u64,
    pub(crate) shutdown_grace: Duration,
    pub(crate) pacing: PacingConfig,
    pub(crate) check_online_every: Duration,
    pub(crate) retention: Duration,
    pub(crate) max_qr_codes: u32,
    pub(crate) max_relogins: u32,
    pub(crate) login_poll_interval: Duration,
}

impl fmt::Debug for Bot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bot")
            .field("settings", &self.settings)
            .field("mock", &self.mock)
            .field("max_concurrent_chats", &self.max_concurrent_chats)
            .field("send_queue_capacity", &self.send_queue_capacity)
            .finish_non_exhaustive()
    }
}

impl Bot {
    /// A bot with `settings` and no handlers.
    pub fn new(settings: Settings) -> Self {
        Bot {
            settings,
            routes: Routes::default(),
            store: None,
            #[cfg(feature = "redis")]
            redis: None,
            mock: false,
            max_concurrent_chats: DEFAULT_MAX_CONCURRENT_CHATS,
            send_queue_capacity: DEFAULT_SEND_QUEUE_CAPACITY,
            max_waiting: 10_000,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            pacing: PacingConfig::default(),
            check_online_every: DEFAULT_CHECK_ONLINE_EVERY,
            retention: DEFAULT_RETENTION,
            max_qr_codes: 3,
            max_relogins: 3,
            login_poll_interval: Duration::from_secs(5),
        }
    }

    /// A bot with the environment's [`Settings`](Settings::from_env).
    ///
    /// # Errors
    /// As [`Settings::from_env`]: `GEWE_TOKEN` or `GEWE_CALLBACK_URL` unset, or a variable
    /// whose value cannot be used.
    pub fn from_env() -> crate::Result<Self> {
        Ok(Bot::new(Settings::from_env()?))
    }

    /// [`from_env`](Self::from_env) when `GEWE_TOKEN` is set; otherwise a bot against the
    /// embedded [mock](crate::mock), which says so when it starts, logs in as a mock account,
    /// and pushes a sample message through the whole loop. For examples: a deployment should
    /// use [`from_env`](Self::from_env), so that a missing token is an error.
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    #[cfg(feature = "mock")]
    pub fn from_env_or_mock() -> crate::Result<Self> {
        if var_is_set("GEWE_TOKEN") {
            return Self::from_env();
        }
        let mut bot = Bot::new(Settings::from_env_without_token()?);
        bot.mock = true;
        bot.login_poll_interval = Duration::from_millis(50);
        Ok(bot)
    }

    /// Handles text messages.
    pub fn on_text<H, Fut>(self, handler: H) -> Self
    where
        H: Fn(Context, TextMessage) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.on(Filter::any(), handler)
    }

    /// Handles images.
    pub fn on_image<H, Fut>(self, handler: H) -> Self
    where
        H: Fn(Context, ImageMessage) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.on(Filter::any(), handler)
    }

    /// Handles every message, of any kind.
    pub fn on_message<H, Fut>(self, handler: H) -> Self
    where
        H: Fn(Context, Message) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.on(Filter::any(), handler)
    }

    /// Handles every event: messages, contact changes, the offline notice, what is unknown.
    pub fn on_event<H, Fut>(self, handler: H) -> Self
    where
        H: Fn(Context, Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.on(Filter::any(), handler)
    }

    /// Handles the events of kind `T` ([`TextMessage`], [`ImageMessage`], [`Message`],
    /// [`Event`], or your own [`FromEvent`]) that pass `filter`.
    ///
    /// ```no_run
    /// use gewe::bot::{Bot, Context, Filter, TextMessage};
    /// # fn build() -> gewe::Result<Bot> {
    /// let bot = Bot::from_env()?.on(
    ///     Filter::group().and(Filter::mentioned()),
    ///     |cx: Context, _msg: TextMessage| async move {
    ///         cx.reply_at("在呢").await?;
    ///         Ok(())
    ///     },
    /// );
    /// # Ok(bot) }
    /// ```
    pub fn on<T, H, Fut>(mut self, filter: Filter, handler: H) -> Self
    where
        T: FromEvent,
        H: Fn(Context, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.routes.add(filter, handler);
        self
    }

    /// Handles the commands of `C` (declared with [`commands!`](crate::commands)): text
    /// messages such as `/roll 6`, parsed. A text whose arguments do not parse goes on to the
    /// next route.
    pub fn on_command<C, H, Fut>(mut self, handler: H) -> Self
    where
        C: BotCommands,
        H: Fn(Context, C, TextMessage) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.routes.add_command(handler);
        self
    }

    /// Handles every change of the device's state (online, offline, recovering, logged
    /// out), for instance to alert someone. Every state handler sees every change, in order.
    pub fn on_state_change<H, Fut>(mut self, handler: H) -> Self
    where
        H: Fn(Context, StateChange) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.routes.add_state(handler);
        self
    }

    /// Whether the bot's own messages (sent from its phone, they come back as callbacks)
    /// reach the handlers (default `false`).
    pub fn own_messages(mut self, handle: bool) -> Self {
        self.routes.own_messages = handle;
        self
    }

    /// How many chats are handled at once (default [`DEFAULT_MAX_CONCURRENT_CHATS`]); events of
    /// one chat are always handled one at a time, in order.
    pub fn max_concurrent_chats(mut self, n: usize) -> Self {
        self.max_concurrent_chats = n.max(1);
        self
    }

    /// How many sends may wait in the device's queue (default
    /// [`DEFAULT_SEND_QUEUE_CAPACITY`]); one more fails at once with
    /// [`BotError::QueueFull`](super::BotError::QueueFull).
    pub fn send_queue_capacity(mut self, n: usize) -> Self {
        self.send_queue_capacity = n.max(1);
        self
    }

    /// How many journaled deliveries may wait for their handlers (default 10,000); beyond it,
    /// deliveries are answered 503 so that GeWe delivers them again later.
    pub fn max_waiting_deliveries(mut self, n: u64) -> Self {
        self.max_waiting = n.max(1);
        self
    }

    /// How long a shutdown waits for handlers under way (default
    /// [`DEFAULT_SHUTDOWN_GRACE`]); what is not finished stays journaled for the next start.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// The pacing of sends (default GeWe's guide: [`PacingConfig::default`]).
    pub fn pacing(mut self, pacing: PacingConfig) -> Self {
        self.pacing = pacing;
        self
    }

    /// How often `checkOnline` runs (default [`DEFAULT_CHECK_ONLINE_EVERY`]). A zero period
    /// is refused when the bot starts, with
    /// [`BotError::InvalidSetting`](super::BotError::InvalidSetting).
    pub fn check_online_every(mut self, every: Duration) -> Self {
        self.check_online_every = every;
        self
    }

    /// How long dedup keys and send records are kept (default [`DEFAULT_RETENTION`]): a
    /// duplicate later than this is handled again, and a send older than this can no longer be
    /// looked up. Those of a delivery not yet handled are kept whatever their age, so that it
    /// never sends twice. The store is pruned at start and every hour.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// How many QR codes one login shows before giving up (default 3).
    pub fn max_qr_codes(mut self, n: u32) -> Self {
        self.max_qr_codes = n.max(1);
        self
    }

    /// How many re-logins a recovery tries after `reconnection` failed (default 3).
    pub fn max_relogins(mut self, n: u32) -> Self {
        self.max_relogins = n;
        self
    }

    /// How often a login polls `checkLogin` (default 5 s, as GeWe asks).
    pub fn login_poll_interval(mut self, every: Duration) -> Self {
        self.login_poll_interval = every;
        self
    }

    /// Uses `store` instead of the file of [`Settings::store_path`].
    pub fn store(mut self, store: impl Store) -> Self {
        #[cfg(feature = "redis")]
        {
            // A Redis store also carries the workers' coordination: keep it as itself.
            let any: &dyn std::any::Any = &store;
            self.redis = any
                .downcast_ref::<super::redis_store::RedisStore>()
                .cloned();
        }
        self.store = Some(Arc::new(store));
        self
    }
}

#[cfg(feature = "mock")]
fn var_is_set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.trim().is_empty())
}
