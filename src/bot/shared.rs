//! What every part of a running bot reaches: the client, the device, the store, the send queue,
//! the health, and the way to log in.

use super::dispatch::Item;
use super::error::BotError;
use super::health::{DeviceState, Health, StateChange};
use super::stats::Counters;
use super::store::{DeviceRecord, Store};
use crate::login::{LoginOptions, LoginOutcome, LoginProgress};
use crate::pacing::Pacer;
use crate::types::LoginGetLoginQrCodeRequestType;
use crate::{Client, Device};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc;

/// How the bot logs in and recovers.
#[derive(Clone, Debug)]
pub(crate) struct LoginSettings {
    pub(crate) device_type: LoginGetLoginQrCodeRequestType,
    /// `GEWE_REGION_ID`; a login without it is refused, since GeWe drops a login from a region
    /// far from the phone.
    pub(crate) region_id: Option<String>,
    pub(crate) max_qr_codes: u32,
    pub(crate) poll_interval: Duration,
    pub(crate) max_relogins: u32,
}

/// The shared state of a running bot.
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) app_id: String,
    /// The device's calls: the client bound to `app_id`.
    pub(crate) device: Device,
    /// The account, once known: (wxid, nickname).
    pub(crate) account: Mutex<DeviceRecord>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) pacer: Pacer,
    /// Sends waiting in, or going through, the device's queue.
    pub(crate) queued: AtomicUsize,
    pub(crate) send_queue_capacity: usize,
    pub(crate) health: Health,
    pub(crate) settings: LoginSettings,
    pub(crate) stats: Counters,
    /// The dispatcher's input, for state changes; set once the dispatcher runs.
    pub(crate) dispatcher: OnceLock<mpsc::UnboundedSender<Item>>,
    /// The store, when it is Redis: what the processes of one deployment share beyond the
    /// [`Store`] (partition leases, the send turn, the device's state).
    #[cfg(feature = "redis")]
    pub(crate) redis: Option<super::redis_store::RedisStore>,
    /// The longest a handler may run; `None` for no limit.
    pub(crate) handler_timeout: Option<Duration>,
    /// With Redis: the gaps and the cap the deployment's send turn keeps (the `pacer` then
    /// only keeps this process's sends in call order).
    #[cfg(feature = "redis")]
    pub(crate) turn_pacing: crate::pacing::PacingConfig,
    /// With Redis: this process's part in the device's shared health, once it is watched.
    #[cfg(feature = "redis")]
    pub(crate) health_share: OnceLock<super::redis_health::HealthShare>,
}

impl Shared {
    pub(crate) fn new(
        client: Client,
        device: DeviceRecord,
        store: Arc<dyn Store>,
        pacer: Pacer,
        send_queue_capacity: usize,
        settings: LoginSettings,
    ) -> Self {
        #[cfg(feature = "redis")]
        let turn_pacing = pacer.config().clone();
        Shared {
            device: client.device(device.app_id.clone()),
            client,
            app_id: device.app_id.clone(),
            account: Mutex::new(device),
            store,
            pacer,
            queued: AtomicUsize::new(0),
            send_queue_capacity,
            health: Health::new(DeviceState::Online),
            settings,
            stats: Counters::default(),
            dispatcher: OnceLock::new(),
            #[cfg(feature = "redis")]
            redis: None,
            handler_timeout: None,
            #[cfg(feature = "redis")]
            turn_pacing,
            #[cfg(feature = "redis")]
            health_share: OnceLock::new(),
        }
    }

    /// Whether the deliveries are handled by workers reading Redis, rather than handed from
    /// the webhook to this process's dispatcher.
    pub(crate) fn has_workers(&self) -> bool {
        #[cfg(feature = "redis")]
        {
            self.redis.is_some()
        }
        #[cfg(not(feature = "redis"))]
        {
            false
        }
    }

    /// Whether this process may start the handler of delivery `seq`: with workers, only while
    /// it surely holds the lease of the delivery's partition.
    pub(crate) fn may_handle(&self, seq: u64) -> bool {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            if redis.may_handle(seq) {
                return true;
            }
            // Left pending: the partition's next holder claims it.
            redis.drop_from_hand(seq);
            return false;
        }
        let _ = seq;
        true
    }

    /// Hands a state change to the state handlers, through the dispatcher, in order.
    pub(crate) fn state_changed(&self, change: StateChange) {
        if let Some(tx) = self.dispatcher.get() {
            let _ = tx.send(Item::State(change));
        }
    }

    /// The account's wxid, once known.
    pub(crate) fn wxid(&self) -> Option<String> {
        crate::lock::lock(&self.account).wxid.clone()
    }

    /// Keeps what a login told: in memory and in the store.
    pub(crate) async fn remember_login(&self, outcome: &LoginOutcome) {
        let device = {
            let mut account = crate::lock::lock(&self.account);
            *account = account
                .clone()
                .with_account(Some(outcome.wxid.clone()), outcome.nick_name.clone());
            account.clone()
        };
        if let Err(error) = self.store.save_device(device).await {
            tracing::error!(%error, "gewe bot: cannot save the device after a login");
        }
    }

    /// Logs in, on `app_id` when given (a re-login keeps the device), showing each QR code in
    /// the terminal.
    pub(crate) async fn log_in(&self, app_id: Option<String>) -> Result<LoginOutcome, BotError> {
        log_in(&self.client, &self.settings, app_id).await
    }
}

/// Logs in with `settings`, on `app_id` when given, showing each QR code in the terminal.
pub(crate) async fn log_in(
    client: &Client,
    settings: &LoginSettings,
    app_id: Option<String>,
) -> Result<LoginOutcome, BotError> {
    let region = settings
        .region_id
        .clone()
        .ok_or(BotError::MissingVariable {
            name: "GEWE_REGION_ID",
            hint: "logging in needs GeWe's region code of the phone's province (e.g. 320000 for \
                   江苏); GeWe drops a login from a region far from the phone",
        })?;
    let max = settings.max_qr_codes;
    let mut options = LoginOptions::new(settings.device_type.clone(), region)
        .max_qr_codes(max)
        .poll_interval(settings.poll_interval)
        .on_progress(move |progress| show_progress(&progress, max));
    if let Some(app_id) = app_id {
        options = options.app_id(app_id);
    }
    client.login(options).await.map_err(BotError::Login)
}

/// Prints a login step for the person at the terminal; the QR code as text.
fn show_progress(progress: &LoginProgress, max: u32) {
    match progress {
        LoginProgress::QrCode {
            qr_data,
            app_id,
            number,
            ..
        } => {
            println!("gewe bot: scan this QR code with WeChat to log in device {app_id} (code {number} of {max}):");
            if let Some(data) = qr_data {
                match qrcode::QrCode::new(data.as_bytes()) {
                    Ok(code) => println!(
                        "{}",
                        code.render::<qrcode::render::unicode::Dense1x2>()
                            .quiet_zone(true)
                            .build()
                    ),
                    Err(error) => tracing::warn!(%error, "gewe bot: cannot draw the QR code"),
                }
                println!("(the code holds {data})");
            }
        }
        LoginProgress::Scanned { nick_name, .. } => println!(
            "gewe bot: scanned by {}; confirm the login on the phone",
            nick_name.as_deref().unwrap_or("someone")
        ),
        LoginProgress::QrExpired { .. } => println!("gewe bot: the QR code expired"),
        LoginProgress::LoggedIn {
            app_id,
            wxid,
            nick_name,
        } => println!(
            "gewe bot: logged in as {wxid} ({}) on device {app_id}",
            nick_name.as_deref().unwrap_or("no nickname")
        ),
    }
}
