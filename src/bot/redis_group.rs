//! [`JournalConsumer`]: a worker's reads of the partitions' journals through the consumer group
//! of a deployment's workers (feature `redis`).
//!
//! A consumer reads new entries of the partitions it holds with one `XREADGROUP` over their
//! streams; an entry it read stays pending, under its name, until the worker marks it handled
//! ([`Store::mark_handled`](super::Store::mark_handled)), which acknowledges it, deletes it from
//! the stream and starts its dedup key's expiry, in one script. The pending entries of a
//! consumer that died are taken over by the partition's next holder with
//! [`claim_idle`](JournalConsumer::claim_idle) (`XAUTOCLAIM`), once they have been idle longer
//! than any handler may run, so that a slow handler is never run twice at once.

use super::redis_store::{items, journal_entry, RedisStore};
use super::store::{JournalEntry, StoreError};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Value};
use std::fmt;
use std::time::Duration;
use tokio::sync::Mutex;

/// The consumer group of a deployment's workers, on every partition's journal.
pub const WORKER_GROUP: &str = "workers";

/// KEYS: a partition's journal. ARGV: the group. Trims the stream below the oldest entry the
/// group still needs: the oldest pending one, else the first one not yet read. A length cap
/// could delete deliveries not yet handled, and Redis 7.0 has no trimming that knows about
/// acknowledgements. Returns how many entries went.
const TRIM_SCRIPT: &str = r"
local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
local minid = nil
if pending[1] > 0 then
  minid = pending[2]
else
  for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local name, last = nil, nil
    for i = 1, #group, 2 do
      if group[i] == 'name' then name = group[i + 1] end
      if group[i] == 'last-delivered-id' then last = group[i + 1] end
    end
    if name == ARGV[1] and last then
      local ms, seq = string.match(last, '^(%d+)-(%d+)$')
      minid = ms .. '-' .. string.format('%d', tonumber(seq) + 1)
    end
  end
end
if minid then
  return redis.call('XTRIM', KEYS[1], 'MINID', minid)
end
return 0
";

/// The longest a read may block, so that a consumer notices a shutdown soon.
pub const MAX_BLOCK: Duration = Duration::from_secs(10);

/// One consumer of a deployment's journals in the group [`WORKER_GROUP`]:
/// [`RedisStore::consumer`].
pub struct JournalConsumer {
    store: RedisStore,
    name: String,
    /// Its own connection, since a blocking `XREADGROUP` holds up every command behind it;
    /// dropped on an error and opened again at the next read, so reads resume once Redis is
    /// back.
    reads: Mutex<Option<MultiplexedConnection>>,
}

impl fmt::Debug for JournalConsumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JournalConsumer")
            .field("name", &self.name)
            .field("store", &self.store)
            .finish()
    }
}

impl RedisStore {
    /// A consumer named `name` in the group [`WORKER_GROUP`]. Names must be unique among the
    /// deployment's live workers; a worker takes a new one each time it starts, and its
    /// predecessor's pending entries are claimed by idle time.
    ///
    /// # Errors
    /// `name` is empty or holds a space; Redis cannot be reached.
    pub async fn consumer(&self, name: impl Into<String>) -> Result<JournalConsumer, StoreError> {
        let name = name.into();
        let op = "join the workers' consumer group";
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(self.error(
                op,
                format!("the consumer name {name:?} must be non-empty, without spaces"),
            ));
        }
        let reads = self
            .read_connection()
            .await
            .map_err(|e| self.error(op, e))?;
        Ok(JournalConsumer {
            store: self.clone(),
            name,
            reads: Mutex::new(Some(reads)),
        })
    }

    async fn read_connection(&self) -> redis::RedisResult<MultiplexedConnection> {
        let config = AsyncConnectionConfig::new()
            .set_response_timeout(Some(MAX_BLOCK + Duration::from_secs(5)))
            .set_connection_timeout(Some(Duration::from_secs(2)));
        self.client()
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }
}

impl JournalConsumer {
    /// The consumer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Up to `count` entries of each of `partitions` that no consumer has read yet, each
    /// partition's in journal order, waiting up to `block` (at most [`MAX_BLOCK`]) when there
    /// are none. They stay pending under this consumer until marked handled.
    ///
    /// # Errors
    /// Redis cannot be reached, or a group is gone.
    pub async fn read(
        &self,
        partitions: &[u32],
        count: usize,
        block: Duration,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        let op = "read the journal as a worker";
        if partitions.is_empty() {
            tokio::time::sleep(block.min(MAX_BLOCK)).await;
            return Ok(Vec::new());
        }
        // At least 1 ms: `BLOCK 0` waits forever.
        let block = u64::try_from(block.min(MAX_BLOCK).as_millis())
            .unwrap_or(1)
            .max(1);
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(WORKER_GROUP)
            .arg(&self.name)
            .arg("COUNT")
            .arg(count.max(1))
            .arg("BLOCK")
            .arg(block)
            .arg("STREAMS");
        for partition in partitions {
            cmd.arg(self.store.journal_key(*partition));
        }
        for _ in partitions {
            cmd.arg(">");
        }
        let mut reads = self.reads.lock().await;
        let conn = match &mut *reads {
            Some(conn) => conn,
            None => reads.insert(
                self.store
                    .read_connection()
                    .await
                    .map_err(|e| self.store.error(op, e))?,
            ),
        };
        let reply: Value = match cmd.query_async(conn).await {
            Ok(reply) => reply,
            Err(e) => {
                *reads = None;
                return Err(self.store.error(op, e));
            }
        };
        drop(reads);
        // [[stream, [entry, …]], …], or nil when the block ran out.
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

    /// Takes over, in journal order, up to `count` entries of `partition` pending under any
    /// consumer for at least `min_idle` (`XAUTOCLAIM`): those of a worker that died
    /// mid-handler. `min_idle` must be longer than a handler may run, or a slow handler's
    /// delivery runs twice at once.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn claim_idle(
        &self,
        partition: u32,
        min_idle: Duration,
        count: usize,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        let op = "claim a dead worker's deliveries";
        let idle = u64::try_from(min_idle.as_millis()).unwrap_or(u64::MAX);
        let journal = self.store.journal_key(partition);
        let mut out = Vec::new();
        let mut cursor = "0-0".to_owned();
        loop {
            let reply: Value = redis::cmd("XAUTOCLAIM")
                .arg(&journal)
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

    /// Trims `partition`'s journal below the oldest entry the workers still need (`XTRIM
    /// MINID`): the oldest pending one, else the first not yet read. Returns how many went.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn trim(&self, partition: u32) -> Result<u64, StoreError> {
        redis::Script::new(TRIM_SCRIPT)
            .key(self.store.journal_key(partition))
            .arg(WORKER_GROUP)
            .invoke_async(&mut self.store.conn())
            .await
            .map_err(|e| self.store.error("trim the journal", e))
    }

    /// How many entries of `partition` are pending: `(under this consumer, under others)`.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn pending(&self, partition: u32) -> Result<(u64, u64), StoreError> {
        let op = "count pending deliveries";
        let reply: Value = redis::cmd("XPENDING")
            .arg(self.store.journal_key(partition))
            .arg(WORKER_GROUP)
            .query_async(&mut self.store.conn())
            .await
            .map_err(|e| self.store.error(op, e))?;
        // [count, first id, last id, [[consumer, count], …] or nil]
        let parts = items(reply).map_err(|e| self.store.error(op, e))?;
        let (mut mine, mut others) = (0, 0);
        if let Some(consumers) = parts.into_iter().nth(3) {
            for consumer in items(consumers).map_err(|e| self.store.error(op, e))? {
                let pair = items(consumer).map_err(|e| self.store.error(op, e))?;
                let text = |v: &Value| match v {
                    Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                    Value::SimpleString(s) => s.clone(),
                    Value::Int(n) => n.to_string(),
                    _ => String::new(),
                };
                let (Some(name), Some(count)) = (pair.first(), pair.get(1)) else {
                    continue;
                };
                let count: u64 = text(count).parse().unwrap_or(0);
                if text(name) == self.name {
                    mine += count;
                } else {
                    others += count;
                }
            }
        }
        Ok((mine, others))
    }
}
