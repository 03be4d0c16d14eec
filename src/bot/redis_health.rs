//! The device's health shared by the processes of a deployment (feature `redis`): when one
//! sees the device go offline, every one refuses sends, and recovery runs once, under a lease.
//!
//! The key `health:{appId}` (a hash under the deployment's prefix) holds the last state a
//! process saw: `state`, `reason`, `by` (the process that wrote it) and `version`, a counter
//! raised by every write. Each process writes its own changes there, in the order they
//! happened, and polls it every [`FOLLOW_EVERY`]: a newer version written by another process
//! moves its local state to match, so that `refuse_unless_online` refuses sends everywhere.
//!
//! Recovery is taken by whichever process wins the lease `recovery:{appId}`
//! ([`RedisStore::acquire_lease`]); it renews the lease while `reconnection` or a re-login run,
//! and writes each step. The others wait and follow the shared state. A process that gets the
//! lease only after another's recovery first reads the shared state: a recovery that ended is
//! followed, not run again, and one left halfway by a process that died is run anew.
//!
//! The periodic `checkOnline` runs once per period for the deployment too: in the process that
//! takes the period's lease `check_online:{appId}`.

use super::health::DeviceState;
use super::redis_lease::Lease;
use super::redis_pace::holder_name;
use super::redis_store::RedisStore;
use super::shared::Shared;
use super::store::StoreError;
use redis::Script;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// How often a process reads the shared state.
pub(crate) const FOLLOW_EVERY: Duration = Duration::from_millis(250);

/// The recovery lease's lifetime; renewed at a third of it while recovery runs (a re-login
/// waits minutes for a scan), so a process that dies mid-recovery hands it on within this time.
const RECOVERY_LEASE: Duration = Duration::from_secs(10);

/// KEYS: health. ARGV: state, reason, by. Returns the new version.
const WRITE_SCRIPT: &str = r"
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'reason', ARGV[2], 'by', ARGV[3])
return version
";

/// A change to write, or a wait for every change before it to be written.
enum Write {
    State(DeviceState, String),
    Flush(oneshot::Sender<()>),
}

/// This process's part in the shared health: its name, and its queue of writes.
pub(crate) struct HealthShare {
    /// Who wrote a state: a process skips its own writes when it follows.
    by: String,
    writes: mpsc::UnboundedSender<Write>,
}

/// The tasks that write and follow the shared state; stopped when dropped.
pub(crate) struct Sharing(Vec<JoinHandle<()>>);

impl Drop for Sharing {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

fn state_name(state: DeviceState) -> &'static str {
    match state {
        DeviceState::Online => "online",
        DeviceState::Offline => "offline",
        DeviceState::Recovering => "recovering",
        DeviceState::LoggedOut => "logged_out",
    }
}

fn state_named(name: &str) -> Option<DeviceState> {
    [
        DeviceState::Online,
        DeviceState::Offline,
        DeviceState::Recovering,
        DeviceState::LoggedOut,
    ]
    .into_iter()
    .find(|s| state_name(*s) == name)
}

/// The shared state as read: (state, reason, by, version).
type Seen = (Option<String>, Option<String>, Option<String>, Option<u64>);

async fn read(redis: &RedisStore, key: &str) -> Result<Seen, StoreError> {
    redis::cmd("HMGET")
        .arg(key)
        .arg("state")
        .arg("reason")
        .arg("by")
        .arg("version")
        .query_async(&mut redis.conn())
        .await
        .map_err(|e| redis.error("read the device's shared state", e))
}

/// Starts writing this process's changes of the device's state to Redis and following the
/// others'; `None` when the store is not Redis.
pub(crate) fn share(shared: &Arc<Shared>) -> Option<Sharing> {
    let redis = shared.redis.clone()?;
    let by = format!("{}-{:08x}", holder_name(), fastrand::u32(..));
    let (writes, queue) = mpsc::unbounded_channel();
    let key = redis.key(&format!("health:{}", shared.app_id));
    if shared
        .health_share
        .set(HealthShare {
            by: by.clone(),
            writes,
        })
        .is_err()
    {
        return None;
    }
    let writer = tokio::spawn(write_changes(redis.clone(), key.clone(), by.clone(), queue));
    let follower = tokio::spawn(follow(Arc::clone(shared), redis, key, by));
    Some(Sharing(vec![writer, follower]))
}

/// Writes the changes in the order they were made.
async fn write_changes(
    redis: RedisStore,
    key: String,
    by: String,
    mut queue: mpsc::UnboundedReceiver<Write>,
) {
    let script = Script::new(WRITE_SCRIPT);
    while let Some(write) = queue.recv().await {
        match write {
            Write::State(state, reason) => {
                let written: Result<u64, _> = script
                    .key(&key)
                    .arg(state_name(state))
                    .arg(&reason)
                    .arg(&by)
                    .invoke_async(&mut redis.conn())
                    .await;
                if let Err(error) = written {
                    tracing::warn!(%error, %state, "gewe bot: cannot share the device's state in Redis; the other processes learn it from their own sends");
                }
            }
            Write::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// Moves the local state to each newer state another process wrote.
async fn follow(shared: Arc<Shared>, redis: RedisStore, key: String, by: String) {
    // What was there before this process started is old news: it checked the device itself.
    let mut seen = read(&redis, &key).await.ok().and_then(|s| s.3).unwrap_or(0);
    let mut ticker = tokio::time::interval(FOLLOW_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match read(&redis, &key).await {
            // Not only a larger version: a Redis that lost its files counts from 1 again.
            Ok((Some(state), reason, writer, Some(version))) if version != seen => {
                seen = version;
                if writer.as_deref() == Some(by.as_str()) {
                    continue;
                }
                if let Some(state) = state_named(&state) {
                    shared.follow_state(state, reason.as_deref().unwrap_or(""));
                }
            }
            Ok(_) => {}
            Err(error) => {
                tracing::debug!(%error, "gewe bot: cannot read the device's shared state")
            }
        }
    }
}

impl Shared {
    /// Queues `state` to be written to Redis, after every change before it.
    pub(crate) fn share_state(&self, state: DeviceState, reason: &str) {
        if let Some(share) = self.health_share.get() {
            let _ = share.writes.send(Write::State(state, reason.to_owned()));
        }
    }

    /// Waits until every change queued so far is written (or failed to be).
    async fn flush_shared_state(&self) {
        if let Some(share) = self.health_share.get() {
            let (done, written) = oneshot::channel();
            if share.writes.send(Write::Flush(done)).is_ok() {
                let _ = written.await;
            }
        }
    }

    /// Takes the state another process wrote: here only, not written back. An offline or
    /// recovering device wakes this process's recovery, which follows the process holding the
    /// lease, and takes the lease over should that process die mid-recovery.
    fn follow_state(&self, to: DeviceState, reason: &str) {
        self.apply_state(to, &format!("another process saw: {reason}"));
        if matches!(to, DeviceState::Offline | DeviceState::Recovering) {
            self.health.wake_recovery();
        }
    }

    /// Whether this process runs this period's `checkOnline`: with Redis, the one process
    /// that takes the period's lease does, and shares what it finds; the lease is left to
    /// expire a little before the next period, so the checks need no clock agreement.
    pub(crate) async fn checks_this_period(&self, every: Duration) -> bool {
        let (Some(redis), Some(share)) = (&self.redis, self.health_share.get()) else {
            return true;
        };
        let name = format!("check_online:{}", self.app_id);
        let ttl = (every * 9 / 10).max(Duration::from_millis(1));
        match redis.acquire_lease(&name, &share.by, ttl).await {
            Ok(lease) => lease.is_some(),
            // A check that may run twice beats none.
            Err(_) => true,
        }
    }

    /// Recovery run once per deployment: by this process when it wins the lease, else by the
    /// process that did, whose steps this one follows. Returns once the device is online or
    /// logged out, or this process's recovery is done.
    pub(crate) async fn recover_shared(&self, redis: &RedisStore) {
        let Some(share) = self.health_share.get() else {
            return self.recover().await;
        };
        let name = format!("recovery:{}", self.app_id);
        loop {
            match redis.acquire_lease(&name, &share.by, RECOVERY_LEASE).await {
                Ok(Some(lease)) => return self.recover_holding(redis, lease).await,
                Ok(None) => {}
                Err(error) => {
                    // The device matters more than running recovery once.
                    tracing::warn!(%error, "gewe bot: cannot take the recovery lease; recovering without it");
                    return self.recover().await;
                }
            }
            tokio::time::sleep(FOLLOW_EVERY).await;
            if matches!(
                self.health.state(),
                DeviceState::Online | DeviceState::LoggedOut
            ) {
                return;
            }
        }
    }

    async fn recover_holding(&self, redis: &RedisStore, lease: Lease) {
        // This process's own offline news goes out first, so that what is read next is at
        // least as new.
        self.flush_shared_state().await;
        let key = redis.key(&format!("health:{}", self.app_id));
        let shared = read(redis, &key)
            .await
            .ok()
            .and_then(|s| s.0)
            .and_then(|s| state_named(&s));
        match shared {
            // Another process recovered after this one's news: follow it.
            Some(state @ (DeviceState::Online | DeviceState::LoggedOut)) => {
                self.apply_state(state, "another process recovered the device");
            }
            _ => {
                // A recovery left halfway by a process that died starts over.
                if self.health.state() == DeviceState::Recovering {
                    self.apply_state(DeviceState::Offline, "the last recovery stopped halfway");
                }
                let recovery = self.recover();
                tokio::pin!(recovery);
                let mut renew = tokio::time::interval(RECOVERY_LEASE / 3);
                renew.tick().await;
                loop {
                    tokio::select! {
                        () = &mut recovery => break,
                        _ = renew.tick() => {
                            if !matches!(lease.renew(RECOVERY_LEASE).await, Ok(true)) {
                                tracing::warn!(app_id = %self.app_id, "gewe bot: the recovery lease was lost mid-recovery");
                            }
                        }
                    }
                }
                self.flush_shared_state().await;
            }
        }
        if let Err(error) = lease.release().await {
            tracing::warn!(%error, "gewe bot: cannot give the recovery lease back; it expires by itself");
        }
    }
}
