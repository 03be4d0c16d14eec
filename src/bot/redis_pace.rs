//! [`SendTurn`]: the send turn of one `appId` in Redis (feature `redis`), so that every send of
//! a deployment, whichever process makes it, goes through one pacing decision: one send at a
//! time, GeWe's gaps, and the per-window cap of the bot's [`PacingConfig`].
//!
//! # Keys (under the deployment's prefix)
//!
//! | key | type | what |
//! |---|---|---|
//! | `send_turn:{appId}` | string, with expiry | the turn: `TOKEN:HOLDER` while a send is under way |
//! | `send_turn_token:{appId}` | string (counter) | the last token given; never expires |
//! | `send_last:{appId}` | hash | `end` (µs, Redis's clock) and `to` of the last send |
//! | `send_starts:{appId}` | sorted set | the starts in the current window, scored by µs |
//!
//! Whether a send may start is decided in one script on Redis's own clock (`TIME`), so the
//! workers' clocks do not matter and two workers never both see the turn free.
//!
//! # Why a lease, not an outbound stream
//!
//! A lease keeps the send in the handler's own task: the handler gets GeWe's answer (the
//! `msgId` that revoking or quoting needs) directly, and the send records of the bot layer are
//! written around it as for one process. A per-`appId` stream with one sender would need a
//! reply channel back to the handler and a sender elected per device. The cost of the lease is
//! bounded: a holder that dies mid-send blocks the device for at most the [send turn's lifetime](super::RedisStoreBuilder::send_turn_ttl), after
//! which the next send goes, counted from the dead holder's start.

use super::calls::Call;
use super::redis_store::RedisStore;
use super::shared::Shared;
use super::store::StoreError;
use crate::pacing::PacingConfig;
use redis::Script;
use std::sync::OnceLock;
use std::time::Duration;

/// How long a turn is held without renewal, by default: see
/// [`RedisStoreBuilder::send_turn_ttl`](super::RedisStoreBuilder::send_turn_ttl).
pub const DEFAULT_SEND_TURN_TTL: Duration = Duration::from_secs(10);

/// How often a send waiting for another's turn asks again: a turn ends when its send does,
/// which the script cannot tell a waiter in advance.
const HELD_POLL: Duration = Duration::from_millis(10);

/// KEYS: turn, last send, starts, token counter. ARGV: holder, turn ttl (ms), to_wxid, message
/// gap (µs), the gap on a change of recipient (µs), cap (0 for none), window (µs).
/// Returns {1, token} when the turn is taken, {0, µs to wait, 1 when another send holds the
/// turn} when not. Numbers made strings go through `%d`: Lua's own conversion keeps only 14
/// digits, too few for a time in µs.
const TURN_SCRIPT: &str = r"
local pttl = redis.call('PTTL', KEYS[1])
if pttl > 0 then
  return {0, pttl * 1000, 1}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local last = redis.call('HMGET', KEYS[2], 'end', 'to')
if last[1] then
  local gap = tonumber(ARGV[4])
  if last[2] ~= ARGV[3] then
    gap = math.max(gap, tonumber(ARGV[5]))
  end
  wait = math.max(wait, tonumber(last[1]) + gap - now)
end
local cap = tonumber(ARGV[6])
if cap > 0 then
  local window = tonumber(ARGV[7])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', string.format('%d', now - window))
  local count = redis.call('ZCARD', KEYS[3])
  if count >= cap then
    local blocking = redis.call('ZRANGE', KEYS[3], count - cap, count - cap, 'WITHSCORES')
    wait = math.max(wait, tonumber(blocking[2]) + window - now)
  end
end
if wait > 0 then
  return {0, wait, 0}
end
local token = redis.call('INCR', KEYS[4])
redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'PX', ARGV[2])
if cap > 0 then
  redis.call('ZADD', KEYS[3], string.format('%d', now), token)
  redis.call('PEXPIRE', KEYS[3], math.ceil(tonumber(ARGV[7]) / 1000) + 1)
end
return {1, token, 0}
";

/// KEYS: turn, last send. ARGV: the turn's value `TOKEN:HOLDER`, to_wxid. Records the end
/// (never moving it backwards) and the recipient, and releases the turn when it is still this
/// one. Returns 1 when it was released.
const DONE_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local ended = tonumber(redis.call('HGET', KEYS[2], 'end') or '0')
if now >= ended then
  redis.call('HSET', KEYS[2], 'end', string.format('%d', now), 'to', ARGV[2])
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
";

/// KEYS: turn. ARGV: the turn's value `TOKEN:HOLDER`, ttl (ms). 1 when renewed.
const RENEW_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

struct Scripts {
    turn: Script,
    done: Script,
    renew: Script,
}

fn scripts() -> &'static Scripts {
    static SCRIPTS: OnceLock<Scripts> = OnceLock::new();
    SCRIPTS.get_or_init(|| Scripts {
        turn: Script::new(TURN_SCRIPT),
        done: Script::new(DONE_SCRIPT),
        renew: Script::new(RENEW_SCRIPT),
    })
}

fn ttl_ms(store: &RedisStore) -> u64 {
    u64::try_from(store.send_turn_ttl().as_millis()).unwrap_or(u64::MAX)
}

/// The name this process holds turns and leases under: its pid and a random part, since one
/// process may run several workers (tests do).
pub(crate) fn holder_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| format!("pid{}-{:08x}", std::process::id(), fastrand::u32(..)))
}

/// The send turn of one `appId`, held: [`RedisStore::send_turn`]. Send, then
/// [`finish`](Self::finish). Dropped unfinished (a send cancelled mid-way), it is finished in
/// the background, as if the send ended then.
#[derive(Debug)]
pub struct SendTurn {
    store: RedisStore,
    turn_key: String,
    last_key: String,
    value: String,
    to_wxid: String,
    token: u64,
    finished: bool,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl RedisStore {
    /// Waits for the send turn of `app_id` for a send to `to_wxid`, as `pacing` asks (its
    /// gaps and cap), counted across every process of the deployment; then holds it for
    /// the [send turn's lifetime](super::RedisStoreBuilder::send_turn_ttl) at most.
    ///
    /// # Errors
    /// Redis cannot be reached or fails the script: the send must not go out, since its
    /// pacing cannot be decided. A send never waits on a Redis that is down.
    pub async fn send_turn(
        &self,
        app_id: &str,
        to_wxid: &str,
        pacing: &PacingConfig,
    ) -> Result<SendTurn, StoreError> {
        let op = "take the send turn in Redis";
        let (cap, window) = pacing.cap();
        let turn_key = self.key(&format!("send_turn:{app_id}"));
        let last_key = self.key(&format!("send_last:{app_id}"));
        let starts_key = self.key(&format!("send_starts:{app_id}"));
        let token_key = self.key(&format!("send_turn_token:{app_id}"));
        let holder = holder_name();
        // Drawn once per send, as the in-process pacer does: a redraw on each try would favour
        // the short end of the group gap.
        let switch_gap = pacing.switch_gap(to_wxid);
        loop {
            let (taken, value, held): (u8, u64, u8) = scripts()
                .turn
                .key(&turn_key)
                .key(&last_key)
                .key(&starts_key)
                .key(&token_key)
                .arg(holder)
                .arg(ttl_ms(self))
                .arg(to_wxid)
                .arg(micros(pacing.message_gap_value()))
                .arg(micros(switch_gap))
                .arg(cap.unwrap_or(0))
                .arg(micros(window))
                .invoke_async(&mut self.conn())
                .await
                .map_err(|e| self.error(op, e))?;
            if taken == 1 {
                return Ok(SendTurn {
                    store: self.clone(),
                    turn_key,
                    last_key,
                    value: format!("{value}:{holder}"),
                    to_wxid: to_wxid.to_owned(),
                    token: value,
                    finished: false,
                });
            }
            let wait = Duration::from_micros(value.max(1));
            // A held turn ends when its send does, usually long before it expires.
            tokio::time::sleep(if held == 1 { wait.min(HELD_POLL) } else { wait }).await;
        }
    }
}

impl SendTurn {
    /// The fencing token: larger for each turn of this `appId` than for every one before.
    pub fn token(&self) -> u64 {
        self.token
    }

    /// Extends the turn to the [send turn's lifetime](super::RedisStoreBuilder::send_turn_ttl) from now, for a send that runs long (a slow
    /// answer, or a client's retries); `false` when it expired and is no longer this one's.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn renew(&self) -> Result<bool, StoreError> {
        let renewed: i64 = scripts()
            .renew
            .key(&self.turn_key)
            .arg(&self.value)
            .arg(ttl_ms(&self.store))
            .invoke_async(&mut self.store.conn())
            .await
            .map_err(|e| self.store.error("renew the send turn in Redis", e))?;
        Ok(renewed == 1)
    }

    /// Records that the send ended now, to `to_wxid`, and gives the turn up when it is still
    /// this one's; whether it was (`false` when it expired mid-send).
    ///
    /// # Errors
    /// Redis cannot be reached: the turn then frees itself when it expires.
    pub async fn finish(mut self) -> Result<bool, StoreError> {
        self.finished = true;
        done(
            &self.store,
            &self.turn_key,
            &self.last_key,
            &self.value,
            &self.to_wxid,
        )
        .await
    }
}

async fn done(
    store: &RedisStore,
    turn_key: &str,
    last_key: &str,
    value: &str,
    to_wxid: &str,
) -> Result<bool, StoreError> {
    let released: i64 = scripts()
        .done
        .key(turn_key)
        .key(last_key)
        .arg(value)
        .arg(to_wxid)
        .invoke_async(&mut store.conn())
        .await
        .map_err(|e| store.error("finish the send turn in Redis", e))?;
    Ok(released == 1)
}

impl Drop for SendTurn {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let store = self.store.clone();
        let (turn_key, last_key) = (
            std::mem::take(&mut self.turn_key),
            std::mem::take(&mut self.last_key),
        );
        let (value, to_wxid) = (
            std::mem::take(&mut self.value),
            std::mem::take(&mut self.to_wxid),
        );
        runtime.spawn(async move {
            if let Err(error) = done(&store, &turn_key, &last_key, &value, &to_wxid).await {
                tracing::warn!(%error, "gewe bot: cannot give back a cancelled send's turn; it frees itself when it expires");
            }
        });
    }
}

impl Shared {
    /// Sends `call` to `to_wxid` in the deployment's send turn, once this process's pacer gave
    /// it its place: the turn waits out the gaps and the cap, then the device is checked again
    /// (it may have gone offline meanwhile, here or in another process), and the turn ends with
    /// the send.
    pub(super) async fn send_in_turn(
        &self,
        redis: &RedisStore,
        to_wxid: &str,
        call: Call,
    ) -> crate::Result<serde_json::Value> {
        let turn = redis
            .send_turn(&self.app_id, to_wxid, &self.turn_pacing)
            .await?;
        let result = match self.refuse_unless_online() {
            Ok(()) => {
                // Renewed while the send runs, so that a send slower than the turn's lifetime
                // (a client's retries, each with its own timeout) keeps it to the end.
                let send = call.run(&self.device);
                tokio::pin!(send);
                let mut renew = tokio::time::interval(redis.send_turn_ttl() / 3);
                renew.tick().await;
                loop {
                    tokio::select! {
                        result = &mut send => break result,
                        _ = renew.tick() => {
                            if !matches!(turn.renew().await, Ok(true)) {
                                tracing::warn!(app_id = %self.app_id, "gewe bot: cannot renew the send turn; another send may start before this one ends");
                            }
                        }
                    }
                }
            }
            Err(refused) => Err(refused.into()),
        };
        if let Err(error) = turn.finish().await {
            tracing::warn!(%error, "gewe bot: cannot end the send turn; it frees itself when it expires");
        }
        result
    }
}
