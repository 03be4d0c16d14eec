//! Running a bot: the device, the store, the webhook, the callback URL, and the shutdown.

use super::builder::Bot;
use super::dispatch::{Dispatcher, Item};
use super::error::BotError;
use super::file_store::FileStore;
use super::health::{watch_over, DeviceState};
use super::journal::Journal;
use super::settings::{callback_path, Role, DEFAULT_STORE};
use super::shared::{log_in, LoginSettings, Shared};
use super::stats::{bump, BotStats};
use super::store::{DeviceRecord, Store, StoreError};
use crate::pacing::Pacer;
use crate::webhook::{RunningWebhook, WebhookBuilder, WebhookServer};
use crate::Client;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// The length of the webhook's random secret path segment.
const SECRET_LEN: usize = 32;

/// A bot set up, before its webhook is served.
struct Prepared {
    shared: Arc<Shared>,
    role: Role,
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    max_waiting: u64,
    dispatcher: Dispatcher,
    webhook: WebhookBuilder,
    callback_url: Option<String>,
    grace: Duration,
    check_every: Duration,
    retention: Duration,
    #[cfg(feature = "mock")]
    mock: Option<crate::mock::MockServer>,
}

/// How often the store is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

impl Bot {
    /// Runs the bot until Ctrl-C or SIGTERM, then stops taking deliveries and lets handlers
    /// under way finish within [`shutdown_grace`](Bot::shutdown_grace). See
    /// [`start`](Self::start) for what it does first.
    ///
    /// # Errors
    /// What [`start`](Self::start) returns.
    pub async fn run(self) -> crate::Result<()> {
        let running = self.start().await?;
        shutdown_signal().await;
        println!("gewe bot: stopping");
        running.shutdown().await;
        Ok(())
    }

    /// Starts the bot and returns at once:
    ///
    /// 1. opens the store; refuses to start when `GEWE_APP_ID` names another device than the
    ///    store's ([`BotError::AppIdConflict`]);
    /// 2. with no device in the store and none given, says so and logs in (a new device),
    ///    showing the QR codes in the terminal; with a device, checks it is online, and brings
    ///    it back (`reconnection`, then a re-login **with the same `appId`**) when not;
    /// 3. hands the deliveries journaled but not handled before the last stop to the handlers;
    /// 4. starts the webhook at a random secret path kept in the store, accepting only this
    ///    device's `Appid`;
    /// 5. registers the callback URL (`GEWE_CALLBACK_URL` and the secret path) with GeWe and
    ///    prints it. A token has **one** callback URL for all its devices: registering it
    ///    replaces another bot's.
    ///
    /// # Errors
    /// The store cannot be opened, the login or recovery failed, the webhook cannot listen,
    /// or GeWe refused the callback URL.
    pub async fn start(self) -> crate::Result<RunningBot> {
        let mut prepared = self.prepare().await?;
        if !prepared.role.serves_webhook() {
            return finish_start(prepared, None, None).await;
        }
        let webhook = std::mem::replace(&mut prepared.webhook, WebhookServer::builder())
            .start()
            .await
            .map_err(BotError::Webhook)?;
        let url = match &prepared.callback_url {
            Some(base) => format!("{base}/{}", secret_of(webhook.callback_path())),
            None => format!("http://{}{}", webhook.local_addr(), webhook.callback_path()),
        };
        let running = finish_start(prepared, Some(webhook), Some(url)).await?;
        #[cfg(feature = "mock")]
        if let Some(mock) = &running.mock {
            super::demo::push_sample(mock, &running.shared.app_id).await;
        }
        Ok(running)
    }

    /// Starts the bot as [`start`](Self::start) does, but serves no address: the returned
    /// router answers GeWe's deliveries at the path of the callback URL plus the secret path,
    /// to merge into your own axum app (`app.merge(router)`), which must be reachable at
    /// `GEWE_CALLBACK_URL`.
    ///
    /// # Errors
    /// As [`start`](Self::start), and [`BotError::MissingVariable`] when no callback URL is set.
    pub async fn mount(self) -> crate::Result<(axum::Router, RunningBot)> {
        if self.settings.callback_url.is_none() {
            return Err(BotError::MissingVariable {
                name: "GEWE_CALLBACK_URL",
                hint: "a mounted bot has no address of its own: set the URL your app is \
                       reached at",
            }
            .into());
        }
        let mut prepared = self.prepare().await?;
        let (router, path) = std::mem::replace(&mut prepared.webhook, WebhookServer::builder())
            .into_router()
            .map_err(BotError::Webhook)?;
        let base = prepared.callback_url.clone().unwrap_or_default();
        let url = format!("{base}/{}", secret_of(&path));
        let running = finish_start(prepared, None, Some(url)).await?;
        Ok((router, running))
    }

    async fn prepare(self) -> crate::Result<Prepared> {
        let Bot {
            settings,
            routes,
            store,
            #[cfg(feature = "redis")]
            mut redis,
            mock,
            max_concurrent_chats,
            send_queue_capacity,
            max_waiting,
            shutdown_grace,
            handler_timeout,
            pacing,
            check_online_every,
            retention,
            max_qr_codes,
            max_relogins,
            login_poll_interval,
        } = self;
        // `tokio::time::interval` panics on a zero period, inside the health task: refuse it
        // here, before anything starts, with the setting's name.
        if check_online_every.is_zero() {
            return Err(BotError::InvalidSetting {
                name: "check_online_every",
                value: format!("{check_online_every:?}"),
                reason: "checkOnline needs a period above zero (the default is 300 s)".into(),
            }
            .into());
        }
        #[cfg(feature = "mock")]
        let mut settings = settings;
        #[cfg(feature = "mock")]
        let (client, store_path, mock) = if mock {
            let server =
                crate::mock::MockServer::start()
                    .await
                    .map_err(|e| crate::error::ConfigError {
                        reason: format!("the embedded mock cannot start: {e}"),
                    })?;
            println!(
                "gewe bot: GEWE_TOKEN is not set: running against the embedded GeWe mock at {}",
                server.base_url()
            );
            server.accept_login("wxid_gewe_mock_bot", "GeWe mock bot");
            // The mock takes any region; a real login needs the phone's.
            settings
                .region_id
                .get_or_insert_with(|| "320000".to_owned());
            let path = settings.store.clone().unwrap_or_else(|| {
                std::env::temp_dir().join(format!("gewe-bot-mock-{}.redb", std::process::id()))
            });
            (server.client()?, path, Some(server))
        } else {
            (client(&settings)?, store_location(&settings), None)
        };
        #[cfg(not(feature = "mock"))]
        let (client, store_path) = {
            let _ = mock;
            (client(&settings)?, store_location(&settings))
        };
        let store: Arc<dyn Store> = match store {
            Some(store) => store,
            #[cfg(feature = "redis")]
            None if settings.redis_url.is_some() => {
                let connected = redis_store(&settings).await?;
                redis = Some(connected.clone());
                Arc::new(connected)
            }
            None => {
                // Creating the file, its fsync, and the repair of a file left by a crash (which
                // reads all of it) block: they run off the runtime's threads, so that a long
                // repair stalls no other task.
                let path = store_path.clone();
                let opened = tokio::task::spawn_blocking(move || FileStore::open(path))
                    .await
                    .map_err(|e| {
                        StoreError::new("open the file", store_path.display().to_string(), e)
                    })??;
                Arc::new(opened)
            }
        };
        let role = settings.role;
        #[cfg(feature = "redis")]
        let worker_store = redis.clone();
        #[cfg(not(feature = "redis"))]
        let worker_store: Option<()> = None;
        if role != Role::Both && worker_store.is_none() {
            return Err(BotError::InvalidSetting {
                name: "GEWE_ROLE",
                value: format!("{role:?}").to_lowercase(),
                reason: "a bot split into ingress and workers shares its deliveries through \
                         Redis: set GEWE_STORE=redis://…"
                    .into(),
            }
            .into());
        }
        #[cfg(feature = "redis")]
        let handler_timeout = match &redis {
            Some(redis) if role.handles() => Some(worker_handler_timeout(redis, handler_timeout)?),
            _ => handler_timeout,
        };
        let login = LoginSettings {
            device_type: settings.device_type.clone(),
            region_id: settings.region_id.clone(),
            max_qr_codes,
            poll_interval: login_poll_interval,
            max_relogins,
        };
        #[cfg(feature = "redis")]
        let (device, fresh) = match &redis {
            Some(redis) if store.device().await?.is_none() => {
                shared_device(&client, redis, &settings, &login).await?
            }
            _ => device(&client, &*store, &settings, &login).await?,
        };
        #[cfg(not(feature = "redis"))]
        let (device, fresh) = device(&client, &*store, &settings, &login).await?;
        let secret = store.secret_path(random_secret()).await?;
        let app_id = device.app_id.clone();
        // With Redis, the deployment's send turn keeps the gaps and the cap; this process's
        // pacer only keeps its own sends one at a time and in call order.
        #[cfg(feature = "redis")]
        let (pacing, turn_pacing) = match &redis {
            Some(_) => (crate::pacing::PacingConfig::serial_only(), pacing),
            None => (pacing.clone(), pacing),
        };
        #[cfg_attr(not(feature = "redis"), allow(unused_mut))]
        let mut shared = Shared::new(
            client,
            device,
            Arc::clone(&store),
            Pacer::new(pacing),
            send_queue_capacity,
            login,
        );
        #[cfg(feature = "redis")]
        {
            shared.redis = redis;
            shared.turn_pacing = turn_pacing;
        }
        shared.handler_timeout = handler_timeout;
        let shared = Arc::new(shared);
        // An ingress replica neither logs in nor recovers: the workers look after the device.
        if !fresh && role.handles() {
            bring_online(&shared).await?;
        }
        let dispatcher =
            Dispatcher::start(Arc::clone(&shared), Arc::new(routes), max_concurrent_chats);
        let _ = shared.dispatcher.set(dispatcher.tx.clone());
        // Workers take what was left over from Redis, partition by partition.
        if !shared.has_workers() {
            replay(&shared, &dispatcher).await?;
        }
        let path = match &settings.callback_url {
            Some(url) => callback_path(url).unwrap_or_else(|| "/".to_owned()),
            None => "/".to_owned(),
        };
        let intake = Arc::new(Journal {
            shared: Arc::clone(&shared),
            dispatcher: dispatcher.tx.clone(),
            max_waiting,
        });
        let webhook = WebhookServer::builder()
            .listen(settings.listen)
            .path(path)
            .secret_path(secret)
            .allow_app_ids([app_id])
            .no_dedup()
            .intake(intake);
        Ok(Prepared {
            shared,
            role,
            max_waiting,
            dispatcher,
            webhook,
            callback_url: settings.callback_url.clone(),
            grace: shutdown_grace,
            check_every: check_online_every,
            retention,
            #[cfg(feature = "mock")]
            mock,
        })
    }
}

/// The client of `settings`.
fn client(settings: &super::settings::Settings) -> crate::Result<Client> {
    let mut builder = Client::builder().token(settings.token.clone().unwrap_or_default());
    if let Some(url) = &settings.base_url {
        builder = builder.base_url(url);
    }
    builder.build()
}

/// The Redis store of `settings` (`GEWE_STORE=redis://…`), connected.
#[cfg(feature = "redis")]
async fn redis_store(
    settings: &super::settings::Settings,
) -> Result<super::redis_store::RedisStore, StoreError> {
    let url = settings.redis_url.clone().unwrap_or_default();
    let deployment = settings.deployment.clone().unwrap_or_default();
    let mut builder = super::redis_store::RedisStore::builder(url, deployment);
    if let Some(days) = settings.dedup_days {
        builder = builder.dedup_days(days);
    }
    if let Some(partitions) = settings.partitions {
        builder = builder.partitions(partitions);
    }
    if let Some(lease) = settings.lease {
        builder = builder.lease(lease);
    }
    if let Some(idle) = settings.claim_after {
        builder = builder.claim_after(idle);
    }
    if let Some(ttl) = settings.send_turn_ttl {
        builder = builder.send_turn_ttl(ttl);
    }
    builder.connect().await
}

/// The handler timeout of a worker: the one set, or the default, shorter than the lease and the
/// claim time, or a delivery whose worker died could be taken over while its handler runs.
#[cfg(feature = "redis")]
fn worker_handler_timeout(
    redis: &super::redis_store::RedisStore,
    set: Option<Duration>,
) -> Result<Duration, BotError> {
    let limit = set.unwrap_or(super::builder::DEFAULT_WORKER_HANDLER_TIMEOUT);
    for (name, other) in [
        ("lease", redis.lease()),
        ("claim_after", redis.claim_after()),
    ] {
        if limit >= other {
            return Err(BotError::InvalidSetting {
                name: "handler_timeout",
                value: format!("{limit:?}"),
                reason: format!(
                    "it must be shorter than the workers' {name} ({other:?}), so that a \
                     delivery is never taken over while its handler may still run"
                ),
            });
        }
    }
    Ok(limit)
}

fn store_location(settings: &super::settings::Settings) -> PathBuf {
    settings
        .store
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STORE))
}

/// The device to run as, and whether it was just logged in.
async fn device(
    client: &Client,
    store: &dyn Store,
    settings: &super::settings::Settings,
    login: &LoginSettings,
) -> crate::Result<(DeviceRecord, bool)> {
    match (settings.app_id.as_deref(), store.device().await?) {
        (Some(configured), Some(stored)) if configured != stored.app_id => {
            Err(BotError::AppIdConflict {
                configured: configured.to_owned(),
                stored: stored.app_id,
                store: store.location(),
            }
            .into())
        }
        (_, Some(stored)) => Ok((stored, false)),
        (Some(configured), None) => {
            let device = DeviceRecord::new(configured);
            store.save_device(device.clone()).await?;
            Ok((device, false))
        }
        (None, None) => {
            println!(
                "gewe bot: no device in the store {}: logging in creates a new device",
                store.location()
            );
            match log_in(client, login, None).await {
                Ok(outcome) => {
                    let device = DeviceRecord::new(outcome.app_id)
                        .with_account(Some(outcome.wxid), outcome.nick_name);
                    store.save_device(device.clone()).await?;
                    Ok((device, true))
                }
                Err(error) => {
                    // GeWe may have created the device before the login failed: keep it, so
                    // that the next login reuses it instead of creating another.
                    if let BotError::Login(login) = &error {
                        if let Some(app_id) = login.app_id() {
                            store.save_device(DeviceRecord::new(app_id)).await?;
                        }
                    }
                    Err(error.into())
                }
            }
        }
    }
}

/// The device of a deployment on Redis whose store has none yet. An ingress replica never
/// logs in: it needs `GEWE_APP_ID`. Of the workers starting together, the one that takes the
/// lease `login` logs in; the others wait for the device it keeps in Redis, so that one login
/// makes one device.
#[cfg(feature = "redis")]
async fn shared_device(
    client: &Client,
    redis: &super::redis_store::RedisStore,
    settings: &super::settings::Settings,
    login: &LoginSettings,
) -> crate::Result<(DeviceRecord, bool)> {
    if settings.app_id.is_none() && settings.role == Role::Ingress {
        return Err(BotError::MissingVariable {
            name: "GEWE_APP_ID",
            hint: "an ingress replica does not log in: start a worker first (it logs in and keeps \
                   the device in Redis), or give the device",
        }
        .into());
    }
    if settings.app_id.is_some() {
        return device(client, redis, settings, login).await;
    }
    let holder = format!("{}-{}", std::process::id(), fastrand::u32(..));
    // Long enough for a person to scan the QR codes.
    let lease = Duration::from_secs(600);
    if let Some(lease) = redis.acquire_lease("login", &holder, lease).await? {
        let outcome = device(client, redis, settings, login).await;
        let _ = lease.release().await;
        return outcome;
    }
    println!(
        "gewe bot: another process of the deployment is logging in; waiting for its device in {}",
        redis.location()
    );
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(device) = redis.device().await? {
            return Ok((device, false));
        }
        if let Some(lease) = redis.acquire_lease("login", &holder, lease).await? {
            // The other process gave up without a device: this one logs in.
            let outcome = device(client, redis, settings, login).await;
            let _ = lease.release().await;
            return outcome;
        }
    }
}

/// Checks the device, and brings it back when it is not online.
async fn bring_online(shared: &Arc<Shared>) -> crate::Result<()> {
    match shared.check_online().await {
        Ok(true) => return Ok(()),
        Ok(false) => shared.set_state(DeviceState::Offline, "checkOnline says offline at start"),
        Err(error) if error.as_api().is_some() => {
            tracing::warn!(%error, "gewe bot: checkOnline failed at start");
            shared.set_state(DeviceState::Offline, "checkOnline failed at start");
        }
        Err(error) => return Err(error),
    }
    shared.recover().await;
    match shared.health.state() {
        DeviceState::Online => Ok(()),
        state => Err(BotError::DeviceUnavailable {
            app_id: shared.app_id.clone(),
            state,
        }
        .into()),
    }
}

/// Hands the deliveries journaled before the last stop, and not handled, to the dispatcher.
async fn replay(shared: &Shared, dispatcher: &Dispatcher) -> crate::Result<()> {
    let entries = shared.store.unhandled().await?;
    if !entries.is_empty() {
        println!(
            "gewe bot: handling {} deliveries received before the last stop",
            entries.len()
        );
    }
    for entry in entries {
        match serde_json::from_slice(&entry.body) {
            Ok(value) => {
                shared.stats.waiting.fetch_add(1, Ordering::Relaxed);
                bump(&shared.stats.accepted);
                let _ = dispatcher.tx.send(Item::Delivery(Some(entry.seq), value));
            }
            Err(error) => {
                // The webhook journals only JSON objects: this entry was not written by it.
                tracing::error!(%error, seq = entry.seq, "gewe bot: a journaled delivery is not JSON; dropped");
                shared.store.mark_handled(entry.seq).await?;
            }
        }
    }
    Ok(())
}

/// Registers `url` (none for a worker), starts watching the device and, with Redis, the
/// worker, and returns the running bot.
async fn finish_start(
    prepared: Prepared,
    webhook: Option<RunningWebhook>,
    url: Option<String>,
) -> crate::Result<RunningBot> {
    let shared = prepared.shared;
    match &url {
        Some(url) => {
            shared.client.set_callback(url.clone()).await?;
            println!(
                "gewe bot: device {} is {}; GeWe posts its callbacks to {url}",
                shared.app_id,
                shared.health.state()
            );
        }
        None => println!(
            "gewe bot: device {} is {}; handling deliveries as a worker",
            shared.app_id,
            shared.health.state()
        ),
    }
    let (health, pruning) = if prepared.role.handles() {
        (
            Some(tokio::spawn(watch_over(
                Arc::clone(&shared),
                prepared.check_every,
            ))),
            Some(tokio::spawn(prune(
                Arc::clone(&shared.store),
                prepared.retention,
            ))),
        )
    } else {
        (None, None)
    };
    #[cfg(feature = "redis")]
    let worker = match (&shared.redis, prepared.role.handles()) {
        (Some(redis), true) => Some(super::redis_worker::Worker::start(
            Arc::clone(&shared),
            redis.clone(),
            prepared.dispatcher.tx.clone(),
            prepared.max_waiting,
        )),
        _ => None,
    };
    Ok(RunningBot {
        shared,
        webhook,
        dispatcher: Some(prepared.dispatcher),
        #[cfg(feature = "redis")]
        worker,
        health,
        pruning,
        callback_url: url.unwrap_or_default(),
        grace: prepared.grace,
        #[cfg(feature = "mock")]
        mock: prepared.mock,
    })
}

/// Forgets dedup keys and send records older than `retention`, now and every hour. Runs until
/// aborted.
async fn prune(store: Arc<dyn Store>, retention: Duration) {
    let mut ticker = tokio::time::interval(PRUNE_EVERY);
    loop {
        ticker.tick().await;
        let Some(before) = std::time::SystemTime::now().checked_sub(retention) else {
            continue;
        };
        match store.prune(before).await {
            Ok(pruned) => tracing::debug!(?pruned, "gewe bot: store pruned"),
            Err(error) => tracing::warn!(%error, "gewe bot: cannot prune the store"),
        }
    }
}

/// The last segment of a callback path: the secret.
fn secret_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn random_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // fastrand's generator is seeded from the OS's randomness per thread; a secret path is a
    // shared secret in a URL, not a key.
    (0..SECRET_LEN)
        .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
        .collect()
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(error) => {
                    tracing::warn!(%error, "gewe bot: cannot watch for SIGTERM");
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A running bot, from [`Bot::start`] or [`Bot::mount`].
pub struct RunningBot {
    shared: Arc<Shared>,
    webhook: Option<RunningWebhook>,
    dispatcher: Option<Dispatcher>,
    #[cfg(feature = "redis")]
    worker: Option<super::redis_worker::Worker>,
    health: Option<JoinHandle<()>>,
    pruning: Option<JoinHandle<()>>,
    callback_url: String,
    grace: Duration,
    #[cfg(feature = "mock")]
    mock: Option<crate::mock::MockServer>,
}

impl std::fmt::Debug for RunningBot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningBot")
            .field("app_id", &self.shared.app_id)
            .field("state", &self.state())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl RunningBot {
    /// The device.
    pub fn app_id(&self) -> &str {
        &self.shared.app_id
    }

    /// The callback URL registered with GeWe, secret path included; empty for a
    /// [worker](Role::Worker), which registers none.
    pub fn callback_url(&self) -> &str {
        &self.callback_url
    }

    /// The address the webhook listens on; `None` for a [mounted](Bot::mount) bot.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.webhook.as_ref().map(RunningWebhook::local_addr)
    }

    /// The device's state.
    pub fn state(&self) -> DeviceState {
        self.shared.health.state()
    }

    /// What the bot has done so far.
    pub fn stats(&self) -> BotStats {
        self.shared.stats.snapshot()
    }

    /// The embedded mock, when the bot runs against it ([`Bot::from_env_or_mock`]).
    #[cfg(feature = "mock")]
    pub fn mock(&self) -> Option<&crate::mock::MockServer> {
        self.mock.as_ref()
    }

    /// Stops taking deliveries (GeWe's are answered until the listener closes), lets the
    /// handlers under way and the deliveries already taken finish within the
    /// [grace period](Bot::shutdown_grace), and stops. What did not finish stays journaled and
    /// is handled on the next start. Returns whether everything finished.
    pub async fn shutdown(mut self) -> bool {
        if let Some(webhook) = self.webhook.take() {
            webhook.shutdown().await;
        }
        #[cfg(feature = "redis")]
        if let Some(worker) = &self.worker {
            worker.stop_reading();
        }
        let finished = match self.dispatcher.take() {
            Some(dispatcher) => dispatcher.finish(self.grace).await,
            None => true,
        };
        // The handlers are done and their deliveries acknowledged: the partitions can go to
        // the other workers now.
        #[cfg(feature = "redis")]
        if let Some(worker) = self.worker.take() {
            worker.release().await;
        }
        for task in [self.health.take(), self.pruning.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
            // Its end drops its hold on the store, which closes with the bot.
            let _ = task.await;
        }
        if !finished {
            println!(
                "gewe bot: handlers still running after {} s were stopped; their deliveries are handled on the next start",
                self.grace.as_secs_f64()
            );
        }
        finished
    }
}

impl Drop for RunningBot {
    fn drop(&mut self) {
        for task in [&self.health, &self.pruning].into_iter().flatten() {
            task.abort();
        }
    }
}
