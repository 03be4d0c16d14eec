//! [`Lease`]: a named lease in Redis with a fencing token (feature `redis`), the base of the
//! partition leases of workers: one holder at a time, for a time, and a holder whose lease
//! expired is refused from then on, however late it notices.
//!
//! A lease is the key `lease:NAME` holding `TOKEN:HOLDER`, with an expiry; the token comes from
//! the counter `lease_token:NAME`, which never expires, so each new holder gets a larger token
//! than every holder before it. Renewing and releasing compare the whole value, token
//! included, in one script: a holder that lost its lease, even to itself under a new token,
//! cannot renew or release the new one.

use super::redis_store::RedisStore;
use super::store::StoreError;
use redis::Script;
use std::time::Duration;

/// KEYS: lease, its token counter. ARGV: holder, lifetime (ms). Returns the token of a lease
/// taken now, or 0 when another holder has it.
const ACQUIRE_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'PX', ARGV[2])
return token
";

/// KEYS: lease. ARGV: the value `TOKEN:HOLDER`, lifetime (ms). 1 when renewed.
const RENEW_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
";

/// KEYS: lease. ARGV: the value `TOKEN:HOLDER`. 1 when released.
const RELEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// A lease held: [`RedisStore::acquire_lease`].
#[derive(Clone, Debug)]
pub struct Lease {
    store: RedisStore,
    key: String,
    value: String,
    token: u64,
}

impl RedisStore {
    /// Takes the lease `name` for `holder` for `ttl`, or `None` when another holder has it.
    ///
    /// # Errors
    /// `name` or `holder` is empty or holds a space, `ttl` is under 1 ms; Redis cannot be
    /// reached.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        let op = "take a lease";
        for (what, value) in [("lease name", name), ("holder", holder)] {
            if value.is_empty() || value.chars().any(char::is_whitespace) {
                return Err(self.error(
                    op,
                    format!("the {what} {value:?} must be non-empty, without spaces"),
                ));
            }
        }
        let ttl_ms = lease_ms(ttl).map_err(|e| self.error(op, e))?;
        let key = self.key(&format!("lease:{name}"));
        let token: u64 = Script::new(ACQUIRE_SCRIPT)
            .key(&key)
            .key(self.key(&format!("lease_token:{name}")))
            .arg(holder)
            .arg(ttl_ms)
            .invoke_async(&mut self.conn())
            .await
            .map_err(|e| self.error(op, e))?;
        Ok((token > 0).then(|| Lease {
            store: self.clone(),
            key,
            value: format!("{token}:{holder}"),
            token,
        }))
    }
}

fn lease_ms(ttl: Duration) -> Result<u64, String> {
    match u64::try_from(ttl.as_millis()) {
        Ok(ms) if ms > 0 => Ok(ms),
        _ => Err(format!("a lease lasts at least 1 ms, not {ttl:?}")),
    }
}

impl Lease {
    /// The fencing token: larger for each new holder of this lease than for every one before.
    pub fn token(&self) -> u64 {
        self.token
    }

    /// The lease's value in Redis, `TOKEN:HOLDER`: what a fenced write compares.
    pub(crate) fn value(&self) -> &str {
        &self.value
    }

    /// Extends the lease to `ttl` from now; `false` when it expired and is no longer this
    /// holder's under this token: the holder must stop acting on what it guards.
    ///
    /// # Errors
    /// `ttl` is under 1 ms; Redis cannot be reached.
    pub async fn renew(&self, ttl: Duration) -> Result<bool, StoreError> {
        let op = "renew a lease";
        let ttl_ms = lease_ms(ttl).map_err(|e| self.store.error(op, e))?;
        let renewed: i64 = Script::new(RENEW_SCRIPT)
            .key(&self.key)
            .arg(&self.value)
            .arg(ttl_ms)
            .invoke_async(&mut self.store.conn())
            .await
            .map_err(|e| self.store.error(op, e))?;
        Ok(renewed == 1)
    }

    /// Gives the lease up, when it is still this holder's; whether it was.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn release(self) -> Result<bool, StoreError> {
        let released: i64 = Script::new(RELEASE_SCRIPT)
            .key(&self.key)
            .arg(&self.value)
            .invoke_async(&mut self.store.conn())
            .await
            .map_err(|e| self.store.error("release a lease", e))?;
        Ok(released == 1)
    }
}
