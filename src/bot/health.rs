//! The device's health: its [`DeviceState`], what takes it offline, and the way back.
//!
//! The bot marks the device offline on GeWe's `Offline` callback, on a send answered with
//! GeWe's offline error (`ret` 500 with 已离线 in `data.msg`, which GeWe sends even while
//! `checkOnline` still says online), and on a periodic `checkOnline` that says offline or fails
//! with GeWe's error. `data.code` -1 alone is not taken as offline: GeWe uses it for other
//! failures too.
//!
//! Recovery tries `/login/reconnection` first and checks with `checkOnline`; when that does not
//! bring the device back it logs in again **with the same `appId`** (a QR code to scan), up to
//! [`Bot::max_relogins`](super::Bot::max_relogins) times. The device is then online again, or
//! logged out. Every change is a [`StateChange`] that handlers registered with
//! [`Bot::on_state_change`](super::Bot::on_state_change) receive, in order.

use super::shared::Shared;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// The words of GeWe's offline error, in `data.msg` (微信已离线).
const OFFLINE_WORDS: &str = "已离线";

/// Whether `error` is GeWe saying the account is offline: `ret` 500 and 已离线 in `data.msg`
/// (or in `msg`).
pub fn is_offline_error(error: &crate::Error) -> bool {
    error.as_api().is_some_and(|api| {
        api.ret == 500
            && [api.detail.as_deref(), api.msg.as_deref()]
                .into_iter()
                .flatten()
                .any(|text| text.contains(OFFLINE_WORDS))
    })
}

/// What the bot knows of its device.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceState {
    /// Online: sends go out.
    Online,
    /// Offline: sends fail at once; recovery is about to start.
    Offline,
    /// Recovering: a `reconnection` or a re-login is under way; sends fail at once.
    Recovering,
    /// Logged out: recovery gave up; sends fail at once until the account logs in again.
    LoggedOut,
}

impl fmt::Display for DeviceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeviceState::Online => "online",
            DeviceState::Offline => "offline",
            DeviceState::Recovering => "recovering",
            DeviceState::LoggedOut => "logged out",
        })
    }
}

/// A change of the device's state, with why it happened.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateChange {
    /// The device.
    pub app_id: String,
    /// The state before.
    pub from: DeviceState,
    /// The state now.
    pub to: DeviceState,
    /// Why, in words: "Offline callback", "a send answered 微信已离线", "re-login", …
    pub reason: String,
}

/// The state, and the recovery it starts.
pub(crate) struct Health {
    state: watch::Sender<DeviceState>,
    /// Woken when the device goes offline.
    recover: Notify,
}

impl Health {
    pub(crate) fn new(initial: DeviceState) -> Self {
        Health {
            state: watch::Sender::new(initial),
            recover: Notify::new(),
        }
    }

    pub(crate) fn state(&self) -> DeviceState {
        *self.state.borrow()
    }

    /// Starts recovery, as going offline here does.
    pub(crate) fn wake_recovery(&self) {
        self.recover.notify_one();
    }

    /// Moves to `to` and returns the change, or `None` when the state was `to` already.
    fn set(&self, app_id: &str, to: DeviceState, reason: &str) -> Option<StateChange> {
        let mut from = to;
        self.state.send_if_modified(|state| {
            from = *state;
            *state = to;
            from != to
        });
        (from != to).then(|| StateChange {
            app_id: app_id.to_owned(),
            from,
            to,
            reason: reason.to_owned(),
        })
    }
}

impl Shared {
    /// Moves the device to `to`, tells the state handlers, and logs it; with Redis, tells the
    /// other processes of the deployment too.
    pub(crate) fn set_state(&self, to: DeviceState, reason: &str) {
        if self.apply_state(to, reason) {
            #[cfg(feature = "redis")]
            self.share_state(to, reason);
        }
    }

    /// [`set_state`](Self::set_state) in this process only; whether the state changed.
    pub(crate) fn apply_state(&self, to: DeviceState, reason: &str) -> bool {
        let Some(change) = self.health.set(&self.app_id, to, reason) else {
            return false;
        };
        tracing::warn!(app_id = %self.app_id, from = %change.from, to = %change.to, reason, "gewe bot: device state changed");
        self.state_changed(change);
        true
    }

    /// Marks the device offline, when it was online, and starts recovery.
    pub(crate) fn went_offline(&self, reason: &str) {
        if self.health.state() == DeviceState::Online {
            self.set_state(DeviceState::Offline, reason);
            self.health.wake_recovery();
        }
    }

    /// `checkOnline`: `Ok(true)` online, `Ok(false)` offline, `Err` when the call failed.
    pub(crate) async fn check_online(&self) -> crate::Result<bool> {
        self.device
            .account()
            .check_online()
            .await
            .map(|online| online.0)
    }

    /// Brings the device back: `reconnection`, then re-logins with the same `appId`.
    pub(crate) async fn recover(&self) {
        // A wake-up left from an earlier offline spell finds the device back already.
        if self.health.state() != DeviceState::Offline {
            return;
        }
        self.set_state(DeviceState::Recovering, "recovery started");
        match self.device.account().reconnection().await {
            Ok(_) => {
                if matches!(self.check_online().await, Ok(true)) {
                    self.set_state(DeviceState::Online, "reconnection");
                    return;
                }
                tracing::warn!(app_id = %self.app_id, "gewe bot: reconnection answered, but checkOnline still says offline");
            }
            Err(error) => {
                tracing::warn!(app_id = %self.app_id, %error, "gewe bot: reconnection failed; logging in again with the same appId");
            }
        }
        for attempt in 1..=self.settings.max_relogins {
            tracing::warn!(app_id = %self.app_id, attempt, "gewe bot: logging in again with the same appId");
            match self.log_in(Some(self.app_id.clone())).await {
                Ok(outcome) => {
                    self.remember_login(&outcome).await;
                    self.set_state(DeviceState::Online, "re-login");
                    return;
                }
                Err(error) => {
                    tracing::error!(app_id = %self.app_id, attempt, %error, "gewe bot: re-login failed");
                }
            }
        }
        self.set_state(DeviceState::LoggedOut, "recovery gave up");
    }
}

/// Recovers whenever the device goes offline, and checks it every `every`. Runs until aborted.
pub(crate) async fn watch_over(shared: Arc<Shared>, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is at once; the bot checked the device as it started.
    ticker.tick().await;
    #[cfg(feature = "redis")]
    let _sharing = super::redis_health::share(&shared);
    loop {
        let recover = shared.health.recover.notified();
        tokio::pin!(recover);
        // Registered before the state is read, so a wake-up in between is kept.
        recover.as_mut().enable();
        let woken = shared.health.state() == DeviceState::Offline
            || tokio::select! {
                () = recover => true,
                _ = ticker.tick() => false,
            };
        if woken {
            #[cfg(feature = "redis")]
            if let Some(redis) = &shared.redis {
                shared.recover_shared(redis).await;
                continue;
            }
            shared.recover().await;
        } else {
            #[cfg(feature = "redis")]
            if !shared.checks_this_period(every).await {
                continue;
            }
            check(&shared).await;
        }
    }
}

/// One periodic check.
async fn check(shared: &Arc<Shared>) {
    let state = shared.health.state();
    match shared.check_online().await {
        Ok(true) if state == DeviceState::LoggedOut => {
            shared.set_state(DeviceState::Online, "checkOnline says online")
        }
        Ok(true) => {}
        Ok(false) => shared.went_offline("checkOnline says offline"),
        // GeWe answered with its error: the device is not usable. A call that got no answer
        // says nothing about the device.
        Err(error) if error.as_api().is_some() => {
            tracing::warn!(%error, "gewe bot: checkOnline failed");
            shared.went_offline("checkOnline failed");
        }
        Err(error) => tracing::warn!(%error, "gewe bot: checkOnline got no answer"),
    }
}
