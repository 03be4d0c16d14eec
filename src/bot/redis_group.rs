//! [`JournalConsumer`]: the journal read through a Redis consumer group, the base of workers
//! that share one deployment's deliveries (feature `redis`).
//!
//! Each consumer reads new entries with `XREADGROUP`; an entry it read stays pending, under its
//! name, until [`ack`](JournalConsumer::ack) (after the handler finished) acknowledges it,
//! deletes it from the stream and starts its dedup key's expiry, in one script. The pending
//! entries of a consumer that died are taken over by another with
//! [`claim_idle`](JournalConsumer::claim_idle) (`XAUTOCLAIM`), once they have been idle longer
//! than any handler may run, so that a slow handler is never run twice at once.
//!
//! Handled entries are deleted, so the stream holds only what is not yet handled, and needs no
//! trimming. The consumers do not yet keep one chat's events in order across workers: that
//! needs the partitions of the worker step.

use super::redis_store::{items, journal_entry, RedisStore};
use super::store::{JournalEntry, StoreError};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Script, Value};
use std::fmt;
use std::time::Duration;
use tokio::sync::Mutex;

/// The consumer group of a deployment's workers.
pub const WORKER_GROUP: &str = "workers";

/// KEYS: journal. ARGV: group, the dedup keys' lifetime (ms), then sequence numbers. Each
/// entry is acknowledged, deleted, and its dedup key given its expiry.
const ACK_SCRIPT: &str = r"
local acked = 0
for i = 3, #ARGV do
  local id = '0-' .. ARGV[i]
  local entry = redis.call('XRANGE', KEYS[1], id, id)
  if #entry > 0 then
    local fields = entry[1][2]
    for j = 1, #fields, 2 do
      if fields[j] == 'key' and fields[j + 1] ~= '' then
        redis.call('PEXPIRE', fields[j + 1], ARGV[2])
      end
    end
    redis.call('XDEL', KEYS[1], id)
  end
  acked = acked + redis.call('XACK', KEYS[1], ARGV[1], id)
end
return acked
";

/// One consumer of a deployment's journal in the group [`WORKER_GROUP`]:
/// [`RedisStore::consumer`].
pub struct JournalConsumer {
    store: RedisStore,
    name: String,
    journal: String,
    /// Its own connection: a blocking `XREADGROUP` holds up every command behind it.
    reads: Mutex<MultiplexedConnection>,
}

impl fmt::Debug for JournalConsumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JournalConsumer")
            .field("name", &self.name)
            .field("store", &self.store)
            .finish()
    }
}

/// The longest a read may block, so that a consumer notices a shutdown soon.
pub const MAX_BLOCK: Duration = Duration::from_secs(10);

impl RedisStore {
    /// A consumer named `name` (unique among the deployment's live workers: a restarted
    /// worker may take its old name back, and with it its pending entries) in the group
    /// [`WORKER_GROUP`], created when missing, from the journal's first entry.
    ///
    /// # Errors
    /// `name` is empty; Redis cannot be reached or refuses the group.
    pub async fn consumer(&self, name: impl Into<String>) -> Result<JournalConsumer, StoreError> {
        let name = name.into();
        let op = "join the workers' consumer group";
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(self.error(
                op,
                format!("the consumer name {name:?} must be non-empty, without spaces"),
            ));
        }
        let journal = self.key("journal");
        let created: Result<(), _> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&journal)
            .arg(WORKER_GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut self.conn())
            .await;
        match created {
            Ok(()) => {}
            Err(e) if e.code() == Some("BUSYGROUP") => {}
            Err(e) => return Err(self.error(op, e)),
        }
        let config = AsyncConnectionConfig::new()
            .set_response_timeout(Some(MAX_BLOCK + Duration::from_secs(5)))
            .set_connection_timeout(Some(Duration::from_secs(2)));
        let reads = self
            .client()
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| self.error(op, e))?;
        Ok(JournalConsumer {
            store: self.clone(),
            name,
            journal,
            reads: Mutex::new(reads),
        })
    }
}

impl JournalConsumer {
    /// The consumer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Up to `count` entries no consumer has read yet, in journal order, waiting up to
    /// `block` (at most [`MAX_BLOCK`]) when there are none. They stay pending under this
    /// consumer until [`ack`](Self::ack).
    ///
    /// # Errors
    /// Redis cannot be reached, or the group is gone.
    pub async fn read(
        &self,
        count: usize,
        block: Duration,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        let op = "read the journal as a worker";
        // At least 1 ms: `BLOCK 0` waits forever.
        let block = u64::try_from(block.min(MAX_BLOCK).as_millis())
            .unwrap_or(1)
            .max(1);
        let reply: Value = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(WORKER_GROUP)
            .arg(&self.name)
            .arg("COUNT")
            .arg(count.max(1))
            .arg("BLOCK")
            .arg(block)
            .arg("STREAMS")
            .arg(&self.journal)
            .arg(">")
            .query_async(&mut *self.reads.lock().await)
            .await
            .map_err(|e| self.store.error(op, e))?;
        // [[stream, [entry, …]]], or nil when the block ran out.
        let mut out = Vec::new();
        for stream in items(reply).map_err(|e| self.store.error(op, e))? {
            let mut parts = items(stream)
                .map_err(|e| self.store.error(op, e))?
                .into_iter();
            let entries = parts.nth(1).unwrap_or(Value::Nil);
            for entry in items(entries).map_err(|e| self.store.error(op, e))? {
                out.push(journal_entry(entry).map_err(|e| self.store.error(op, e))?);
            }
        }
        Ok(out)
    }

    /// Acknowledges the handled entries `seqs`: each leaves the pending list and the stream,
    /// and its dedup key starts to expire, all in one step. Returns how many were pending.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn ack(&self, seqs: &[u64]) -> Result<u64, StoreError> {
        let script = Script::new(ACK_SCRIPT);
        let mut call = script.key(&self.journal);
        call.arg(WORKER_GROUP).arg(self.store.dedup_ttl_ms());
        for seq in seqs {
            call.arg(*seq);
        }
        call.invoke_async(&mut self.store.conn())
            .await
            .map_err(|e| self.store.error("acknowledge handled deliveries", e))
    }

    /// Takes over, in journal order, up to `count` entries pending under any consumer for at
    /// least `min_idle` (`XAUTOCLAIM`): those of a worker that died mid-handler. `min_idle`
    /// must be longer than a handler may run, or a slow handler's delivery runs twice at once.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn claim_idle(
        &self,
        min_idle: Duration,
        count: usize,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        let op = "claim a dead worker's deliveries";
        let idle = u64::try_from(min_idle.as_millis()).unwrap_or(u64::MAX);
        let mut out = Vec::new();
        let mut cursor = "0-0".to_owned();
        loop {
            let reply: Value = redis::cmd("XAUTOCLAIM")
                .arg(&self.journal)
                .arg(WORKER_GROUP)
                .arg(&self.name)
                .arg(idle)
                .arg(&cursor)
                .arg("COUNT")
                .arg(count.saturating_sub(out.len()).max(1))
                .query_async(&mut self.store.conn())
                .await
                .map_err(|e| self.store.error(op, e))?;
            // [next cursor, [entry, …], [deleted id, …]]: entries deleted from the stream
            // while pending come back as nil and are dropped from the pending list by Redis.
            let mut parts = items(reply)
                .map_err(|e| self.store.error(op, e))?
                .into_iter();
            let next = match parts.next() {
                Some(Value::BulkString(next)) => String::from_utf8_lossy(&next).into_owned(),
                Some(Value::SimpleString(next)) => next,
                other => {
                    return Err(self
                        .store
                        .error(op, format!("XAUTOCLAIM answered {other:?}")))
                }
            };
            for entry in
                items(parts.next().unwrap_or(Value::Nil)).map_err(|e| self.store.error(op, e))?
            {
                if !matches!(entry, Value::Nil) {
                    out.push(journal_entry(entry).map_err(|e| self.store.error(op, e))?);
                }
            }
            if next == "0-0" || out.len() >= count {
                return Ok(out);
            }
            cursor = next;
        }
    }

    /// How many entries are pending in the group, under any consumer.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn pending(&self) -> Result<u64, StoreError> {
        let reply: Value = redis::cmd("XPENDING")
            .arg(&self.journal)
            .arg(WORKER_GROUP)
            .query_async(&mut self.store.conn())
            .await
            .map_err(|e| self.store.error("count pending deliveries", e))?;
        match items(reply)
            .map_err(|e| self.store.error("count pending deliveries", e))?
            .first()
        {
            Some(Value::Int(n)) => Ok(u64::try_from(*n).unwrap_or(0)),
            other => Err(self.store.error(
                "count pending deliveries",
                format!("XPENDING answered {other:?}"),
            )),
        }
    }
}
