//! [`RedisStore`]: the bot's [`Store`] on Redis (feature `redis`), so that several processes
//! see one account: its device, its secret path, its dedup keys, its journal and its sends.
//!
//! # Keys
//!
//! Every key of a deployment starts with `gewe:{DEPLOYMENT}:`, so that several bots share one
//! Redis; the braces are a Redis Cluster hash tag, which keeps a deployment's keys in one slot,
//! where a script may touch several of them.
//!
//! | key | type | what |
//! |---|---|---|
//! | `device` | string | the [`DeviceRecord`], as JSON |
//! | `secret_path` | string | the webhook's secret path segment |
//! | `partitions` | string | the number of partitions `P`, fixed by the first process of the deployment |
//! | `next_seq` | string (counter) | the last journal counter given; a delivery's sequence number is `counter × P + partition` |
//! | `journal:{p}` | stream | partition `p`'s deliveries not yet handled, entry id `0-SEQ`, fields `body`, `key` (the dedup key's name), `at` (ms); consumer group `workers` |
//! | `lease:partition:{p}` | string | the lease of the worker handling partition `p`: `TOKEN:WORKER` |
//! | `workers` | sorted set | the live workers, scored by their last heartbeat (ms) |
//! | `lease:{name}`, `lease_token:{name}` | string | other leases (`login`, `recovery:{appId}`, `check_online:{appId}`) and their token counters ([`Lease`](super::Lease)) |
//! | `send_turn:{appId}` and the like | | the device's send turn: [`SendTurn`](super::SendTurn) |
//! | `health:{appId}` | hash | the device's state, shared by the deployment's processes |
//! | `seen:{Appid}/{NewMsgId}` | string | a dedup key, holding its sequence number |
//! | `sends` | hash | `DELIVERY:INDEX` → the [`SendRecord`] as begun, as JSON |
//! | `send_outcomes` | hash | `DELIVERY:INDEX` → its [`SendOutcome`], as JSON |
//! | `sent_to:{wxid}` | sorted set | the accepted sends to a chat, `DELIVERY:INDEX` zero-padded, all of score 0, so in key order |
//!
//! # Why a stream, and why scripts
//!
//! The journal is one Redis Stream per partition, consumed by the workers through the consumer
//! group `workers` (`XREADGROUP`, `XACK`, `XAUTOCLAIM`). A conversation (`Appid` and chat) always
//! lands in the same partition, and a partition is handled by one worker at a time, so one
//! chat's order holds across workers. An entry's id is `0-SEQ`, and a sequence number names its
//! partition (`SEQ mod P`), so a sequence number and its entry name each other. Journaling is one Lua script: the dedup check, the sequence number,
//! the `XADD` and the dedup key run as one step on the server, with the `XADD` before the key,
//! so a delivery is never marked seen without being appended (a script that fails midway does
//! not roll back what it did). A dedup key has no expiry while its delivery waits; marking the
//! delivery handled sets its expiry ([`RedisStoreBuilder::dedup_days`]), so a late duplicate of
//! a waiting delivery is always dropped.
//!
//! # Durability
//!
//! An `Ok` means Redis answered. Redis keeps an answered write across its own crash only with
//! `appendonly yes` and `appendfsync always`; with `everysec` the last second can be lost.

use super::settings::redact_store_url;
use super::store::{
    ms_since_epoch, Delivery, DeviceRecord, JournalEntry, Journaled, Pruned, SendKey, SendOutcome,
    SendRecord, SendSlot, Store, StoreError, StoreFuture,
};
use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, oneshot};

use super::redis_group::WORKER_GROUP;

/// How long dedup keys are kept after their delivery is handled, by default.
pub const DEFAULT_DEDUP_DAYS: u32 = 7;

/// The most marks one script call takes, so that one call stays short on the server.
const MAX_MARKS: usize = 512;

/// How many partitions a deployment's conversations are spread over, by default: enough for a
/// dozen workers to share them evenly.
pub const DEFAULT_PARTITIONS: u32 = 16;

/// The default lease of a worker on a partition: see [`RedisStoreBuilder::lease`].
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// The default time before a delivery read by a worker may be claimed by another: see
/// [`RedisStoreBuilder::claim_after`].
pub const DEFAULT_CLAIM_AFTER: Duration = Duration::from_secs(60);

/// How many journal entries one `XRANGE` reads.
const PAGE: usize = 1000;

/// How long a command may wait for its answer, and a connection attempt for the server:
/// past them, the call fails, and the webhook answers 503, rather than hanging.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// KEYS: the partition's journal, next_seq, [seen key]. ARGV: body, the seen key's name or "",
/// now (ms), the number of partitions, the partition. Returns the new sequence number, or 0 for
/// a duplicate.
const JOURNAL_SCRIPT: &str = r"
if #KEYS == 3 and redis.call('EXISTS', KEYS[3]) == 1 then
  return 0
end
local seq = redis.call('INCR', KEYS[2]) * tonumber(ARGV[4]) + tonumber(ARGV[5])
redis.call('XADD', KEYS[1], '0-' .. string.format('%d', seq), 'body', ARGV[1], 'key', ARGV[2], 'at', ARGV[3])
if #KEYS == 3 then
  redis.call('SET', KEYS[3], seq)
end
return seq
";

/// ARGV: the dedup keys' lifetime (ms), the key prefix, then for each mark, in the order they
/// were asked for: its sequence number, its partition, and the fence (the partition lease's
/// value the marking worker holds, or "" outside a worker). A fenced mark whose lease is no
/// longer that value is refused (-1): the partition is another worker's now. Otherwise the
/// entry is acknowledged in the group, deleted, and its dedup key given its expiry (1). The
/// keys' names are built here: one hash tag holds them all, so this stays valid on a cluster.
const MARK_SCRIPT: &str = r"
local out = {}
local prefix = ARGV[2]
for i = 3, #ARGV, 3 do
  local id = '0-' .. ARGV[i]
  local journal = prefix .. 'journal:' .. ARGV[i + 1]
  local fence = ARGV[i + 2]
  if fence ~= '' and redis.call('GET', prefix .. 'lease:partition:' .. ARGV[i + 1]) ~= fence then
    out[#out + 1] = -1
  else
    local entry = redis.call('XRANGE', journal, id, id)
    if #entry > 0 then
      local fields = entry[1][2]
      for j = 1, #fields, 2 do
        if fields[j] == 'key' and fields[j + 1] ~= '' then
          redis.call('PEXPIRE', fields[j + 1], ARGV[1])
        end
      end
      redis.call('XDEL', journal, id)
    end
    redis.call('XACK', journal, 'workers', id)
    out[#out + 1] = 1
  end
end
return out
";

/// KEYS: a key set once (the secret path, the partition count). ARGV: the candidate. Returns
/// the stored value.
const KEEP_FIRST_SCRIPT: &str = r"
local stored = redis.call('GET', KEYS[1])
if stored then
  return stored
end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
";

/// KEYS: sends, send_outcomes, [the partition's lease]. ARGV: field, record, [the fence].
/// Returns -1 when the lease is no longer the fence (another worker has the partition), nil
/// when the send is new (and now recorded), else {record, outcome or false}.
const BEGIN_SEND_SCRIPT: &str = r"
if #KEYS == 3 and redis.call('GET', KEYS[3]) ~= ARGV[3] then
  return -1
end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  return nil
end
return {redis.call('HGET', KEYS[1], ARGV[1]), redis.call('HGET', KEYS[2], ARGV[1])}
";

/// KEYS: sends, send_outcomes, sent_to (or absent). ARGV: field, outcome, a record for a send
/// that was never begun, the index's member (the key, zero-padded, so that its order is the
/// keys' order).
const FINISH_SEND_SCRIPT: &str = r"
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if #KEYS == 3 then
  redis.call('ZADD', KEYS[3], 0, ARGV[4])
end
return 1
";

/// The bot's [`Store`] on Redis. Cheap to clone: clones share one connection, which
/// reconnects by itself after Redis restarts.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// The URL without its credentials, and the deployment, for messages.
    location: String,
    keys: Keys,
    /// For the connections of consumers, whose blocking reads must not hold up `conn`.
    client: redis::Client,
    conn: ConnectionManager,
    dedup_ttl_ms: u64,
    partitions: u32,
    lease: Duration,
    claim_after: Duration,
    send_turn_ttl: Duration,
    /// The partition leases this process holds or held, as worker: the fences its marks and
    /// sends carry. A lost lease keeps its stale value, so that late writes are refused.
    fences: std::sync::Mutex<std::collections::HashMap<u32, Fence>>,
    /// The deliveries this process's worker read and has not marked yet: what of a partition's
    /// pending entries is in its hands, and what was lost on the way (a read whose answer never
    /// came, a mark Redis never took) and must be claimed again.
    in_hand: Arc<std::sync::Mutex<std::collections::HashSet<u64>>>,
    /// Marks, queued in the order they were asked for, to the task that runs them.
    marks: mpsc::UnboundedSender<(u32, Mark)>,
    scripts: Scripts,
}

/// A partition lease as this process last held it.
struct Fence {
    value: String,
    /// Past this instant the lease may have expired: handlers of the partition no longer start.
    valid_until: std::time::Instant,
}

struct Scripts {
    journal: Script,
    keep_first: Script,
    begin_send: Script,
    finish_send: Script,
}

struct Mark {
    seq: u64,
    fence: Option<String>,
    reply: oneshot::Sender<Result<(), String>>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("location", &self.inner.location)
            .finish()
    }
}

/// The names of a deployment's keys.
#[derive(Clone)]
struct Keys {
    prefix: String,
}

impl Keys {
    fn new(deployment: &str) -> Self {
        Keys {
            prefix: format!("gewe:{{{deployment}}}:"),
        }
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn journal(&self, partition: u32) -> String {
        format!("{}journal:{partition}", self.prefix)
    }

    fn partition_lease(&self, partition: u32) -> String {
        format!("{}lease:partition:{partition}", self.prefix)
    }

    fn seen(&self, dedup: &str) -> String {
        format!("{}seen:{dedup}", self.prefix)
    }

    fn sent_to(&self, wxid: &str) -> String {
        format!("{}sent_to:{wxid}", self.prefix)
    }
}

/// Sets up a [`RedisStore`]: [`RedisStore::builder`].
#[derive(Clone, Debug)]
pub struct RedisStoreBuilder {
    url: String,
    deployment: String,
    dedup_days: u32,
    partitions: u32,
    lease: Duration,
    claim_after: Duration,
    send_turn_ttl: Duration,
}

impl RedisStoreBuilder {
    /// How long a device's send turn is held without renewal (default
    /// [`DEFAULT_SEND_TURN_TTL`](super::DEFAULT_SEND_TURN_TTL)). A send renews it every third of
    /// that while it runs, so a slow send keeps its turn to the end; a worker that dies
    /// mid-send holds up the device's sends for at most this.
    pub fn send_turn_ttl(mut self, ttl: Duration) -> Self {
        self.send_turn_ttl = ttl;
        self
    }

    /// How many partitions the conversations are spread over (default [`DEFAULT_PARTITIONS`]):
    /// the most workers that can handle deliveries at once. Fixed by the deployment's first
    /// process: a process asking for another number refuses to start.
    pub fn partitions(mut self, partitions: u32) -> Self {
        self.partitions = partitions;
        self
    }

    /// How long a worker's lease on a partition lasts without renewal (default
    /// [`DEFAULT_LEASE`]); a worker renews it every third of that. When a worker dies, its
    /// partitions pass to the others once their leases expire. Must be longer than the bot's
    /// [handler timeout](super::Bot::handler_timeout).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long a delivery read by a worker stays its own before another worker may claim it
    /// (`XAUTOCLAIM`'s idle time; default [`DEFAULT_CLAIM_AFTER`]). Must be longer than the
    /// bot's [handler timeout](super::Bot::handler_timeout), so that a slow handler is never
    /// run twice at once.
    pub fn claim_after(mut self, idle: Duration) -> Self {
        self.claim_after = idle;
        self
    }

    /// How many days a dedup key is kept after its delivery is handled (default
    /// [`DEFAULT_DEDUP_DAYS`]). GeWe redelivers within minutes; a week also covers a replay.
    pub fn dedup_days(mut self, days: u32) -> Self {
        self.dedup_days = days;
        self
    }

    /// Connects to Redis, and fails when it cannot.
    ///
    /// # Errors
    /// The deployment name is empty or holds other characters than letters, digits, `-`,
    /// `_` and `.`; `dedup_days` is 0; the URL is not a `redis://` URL; Redis cannot be
    /// reached or refuses the connection (a wrong password, for one).
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        let location = format!(
            "{} (deployment {})",
            redact_store_url(&self.url),
            self.deployment
        );
        let fail = |op: &'static str, e: String| StoreError::new(op, location.clone(), e);
        check_deployment(&self.deployment).map_err(|e| fail("use the deployment name", e))?;
        if self.dedup_days == 0 {
            return Err(fail(
                "keep dedup keys",
                "dedup_days is 0: a duplicate delivered a moment later would be handled again"
                    .into(),
            ));
        }
        if self.partitions == 0 || self.partitions > 1024 {
            return Err(fail(
                "use the partitions",
                format!("{} partitions: give 1 to 1024", self.partitions),
            ));
        }
        for (name, value) in [
            ("lease", self.lease),
            ("claim_after", self.claim_after),
            ("send_turn_ttl", self.send_turn_ttl),
        ] {
            if value < Duration::from_millis(10) {
                return Err(fail(
                    "use the worker settings",
                    format!("{name} is {value:?}: give at least 10 ms"),
                ));
            }
        }
        if !self.url.starts_with("redis://") {
            return Err(fail(
                "parse the URL",
                "it must start with redis:// (redis://[:PASSWORD@]HOST[:PORT][/DB])".into(),
            ));
        }
        let client = redis::Client::open(self.url.as_str())
            .map_err(|e| StoreError::new("parse the URL", location.clone(), e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(|e| StoreError::new("connect", location.clone(), e))?;
        warn_unless_durable(&mut conn.clone(), &location).await;
        let keys = Keys::new(&self.deployment);
        let keep_first = Script::new(KEEP_FIRST_SCRIPT);
        let stored: String = keep_first
            .key(keys.key("partitions"))
            .arg(self.partitions)
            .invoke_async(&mut conn.clone())
            .await
            .map_err(|e| StoreError::new("read the partitions", location.clone(), e))?;
        if stored != self.partitions.to_string() {
            return Err(fail(
                "use the partitions",
                format!(
                    "the deployment has {stored} partitions, this process asks for {}: a \
                     conversation's partition would change and its order break; use {stored}",
                    self.partitions
                ),
            ));
        }
        for partition in 0..self.partitions {
            let created: Result<(), _> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(keys.journal(partition))
                .arg(WORKER_GROUP)
                .arg("0")
                .arg("MKSTREAM")
                .query_async(&mut conn.clone())
                .await;
            match created {
                Ok(()) => {}
                Err(e) if e.code() == Some("BUSYGROUP") => {}
                Err(e) => {
                    return Err(StoreError::new(
                        "create the workers' group",
                        location.clone(),
                        e,
                    ))
                }
            }
        }
        let (marks, queue) = mpsc::unbounded_channel();
        let dedup_ttl_ms = u64::from(self.dedup_days) * 86_400_000;
        let in_hand = Arc::default();
        tokio::spawn(run_marks(
            conn.clone(),
            keys.clone(),
            dedup_ttl_ms,
            queue,
            Arc::clone(&in_hand),
        ));
        Ok(RedisStore {
            inner: Arc::new(Inner {
                location,
                keys,
                client,
                conn,
                dedup_ttl_ms,
                partitions: self.partitions,
                lease: self.lease,
                claim_after: self.claim_after,
                send_turn_ttl: self.send_turn_ttl,
                fences: std::sync::Mutex::default(),
                in_hand,
                marks,
                scripts: Scripts {
                    journal: Script::new(JOURNAL_SCRIPT),
                    keep_first,
                    begin_send: Script::new(BEGIN_SEND_SCRIPT),
                    finish_send: Script::new(FINISH_SEND_SCRIPT),
                },
            }),
        })
    }
}

impl RedisStore {
    /// A store at `url` (`redis://[:PASSWORD@]HOST[:PORT][/DB]`) for the deployment
    /// `deployment`, which names its keys: bots with different names share one Redis without
    /// seeing each other's state, and the processes of one bot share its state by sharing
    /// its name.
    pub fn builder(url: impl Into<String>, deployment: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            deployment: deployment.into(),
            dedup_days: DEFAULT_DEDUP_DAYS,
            partitions: DEFAULT_PARTITIONS,
            lease: DEFAULT_LEASE,
            claim_after: DEFAULT_CLAIM_AFTER,
            send_turn_ttl: super::redis_pace::DEFAULT_SEND_TURN_TTL,
        }
    }

    /// [`builder`](Self::builder) with the defaults, connected.
    ///
    /// # Errors
    /// As [`RedisStoreBuilder::connect`].
    pub async fn connect(
        url: impl Into<String>,
        deployment: impl Into<String>,
    ) -> Result<RedisStore, StoreError> {
        Self::builder(url, deployment).connect().await
    }

    /// The prefix of this deployment's keys, e.g. `gewe:{shop}:`.
    pub fn key_prefix(&self) -> &str {
        &self.inner.keys.prefix
    }

    /// How long a handled delivery's dedup key is kept.
    pub fn dedup_ttl(&self) -> Duration {
        Duration::from_millis(self.inner.dedup_ttl_ms)
    }

    pub(super) fn error(
        &self,
        operation: &'static str,
        e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> StoreError {
        StoreError::new(operation, self.inner.location.clone(), e)
    }

    pub(super) fn conn(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    pub(super) fn client(&self) -> &redis::Client {
        &self.inner.client
    }

    /// The name of one of this deployment's keys, e.g. `journal`.
    pub(super) fn key(&self, name: &str) -> String {
        self.inner.keys.key(name)
    }

    /// How many partitions the deployment's conversations are spread over.
    pub fn partitions(&self) -> u32 {
        self.inner.partitions
    }

    /// A worker's lease on a partition.
    pub fn lease(&self) -> Duration {
        self.inner.lease
    }

    /// How long a delivery read by a worker stays its own before another may claim it.
    pub fn claim_after(&self) -> Duration {
        self.inner.claim_after
    }

    /// How long a device's send turn is held without renewal.
    pub fn send_turn_ttl(&self) -> Duration {
        self.inner.send_turn_ttl
    }

    /// The partition of `conversation` of device `app_id`: FNV-1a, which every process and
    /// version computes alike (std's hasher promises neither).
    pub(crate) fn partition_of(&self, app_id: &str, conversation: &str) -> u32 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in app_id.bytes().chain([b'\n']).chain(conversation.bytes()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        u32::try_from(hash % u64::from(self.inner.partitions)).unwrap_or(0)
    }

    /// The partition of a sequence number.
    pub(crate) fn partition_of_seq(&self, seq: u64) -> u32 {
        u32::try_from(seq % u64::from(self.inner.partitions)).unwrap_or(0)
    }

    /// Keeps `value` as the fence of `partition`, valid until `until`.
    pub(crate) fn set_fence(&self, partition: u32, value: String, until: std::time::Instant) {
        crate::lock::lock(&self.inner.fences).insert(
            partition,
            Fence {
                value,
                valid_until: until,
            },
        );
    }

    /// Ends the fence of `partition` now: its handlers no longer start, its writes are refused.
    pub(crate) fn expire_fence(&self, partition: u32) {
        if let Some(fence) = crate::lock::lock(&self.inner.fences).get_mut(&partition) {
            fence.valid_until = std::time::Instant::now();
        }
    }

    /// The fence a write for delivery `seq` carries; `None` outside a worker.
    fn fence_of(&self, seq: u64) -> Option<String> {
        let partition = self.partition_of_seq(seq);
        crate::lock::lock(&self.inner.fences)
            .get(&partition)
            .map(|fence| fence.value.clone())
    }

    /// Whether this process may still start the handler of delivery `seq`: true outside a
    /// worker, and while its partition's lease is surely held.
    pub(crate) fn may_handle(&self, seq: u64) -> bool {
        let partition = self.partition_of_seq(seq);
        crate::lock::lock(&self.inner.fences)
            .get(&partition)
            .is_none_or(|fence| std::time::Instant::now() < fence.valid_until)
    }

    /// Notes delivery `seq` as in this process's hands; `false` when it was already.
    pub(crate) fn take_in_hand(&self, seq: u64) -> bool {
        crate::lock::lock(&self.inner.in_hand).insert(seq)
    }

    /// Notes delivery `seq` as out of this process's hands, unmarked.
    pub(crate) fn drop_from_hand(&self, seq: u64) {
        crate::lock::lock(&self.inner.in_hand).remove(&seq);
    }

    /// How many deliveries of `partition` are in this process's hands.
    pub(crate) fn in_hand(&self, partition: u32) -> u64 {
        let held = crate::lock::lock(&self.inner.in_hand);
        held.iter()
            .filter(|seq| self.partition_of_seq(**seq) == partition)
            .count() as u64
    }

    /// The name of partition `partition`'s journal.
    pub(super) fn journal_key(&self, partition: u32) -> String {
        self.inner.keys.journal(partition)
    }
}

/// Logs a warning when Redis says it does not write every change to disk before answering:
/// a crash of Redis could then lose deliveries GeWe was answered 200 for. A Redis that refuses
/// `CONFIG` (a managed one, often) is not warned about.
async fn warn_unless_durable(conn: &mut ConnectionManager, location: &str) {
    let answer: Result<Vec<String>, _> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("append*")
        .query_async(conn)
        .await;
    let Ok(pairs) = answer else {
        return;
    };
    let setting = |name: &str| {
        pairs
            .chunks(2)
            .find(|pair| pair[0] == name)
            .and_then(|pair| pair.get(1))
            .map(String::as_str)
    };
    if setting("appendonly") != Some("yes") || setting("appendfsync") != Some("always") {
        tracing::warn!(
            store = location,
            appendonly = setting("appendonly"),
            appendfsync = setting("appendfsync"),
            "gewe bot: Redis does not sync every write to disk before answering \
             (appendonly yes, appendfsync always): a crash of Redis can lose deliveries \
             already answered 200"
        );
    }
}

/// A deployment name: letters, digits, `-`, `_`, `.`; at most 64 characters.
fn check_deployment(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(
            "the deployment name is empty: name it (GEWE_DEPLOYMENT), so that bots \
                    sharing one Redis keep apart"
                .into(),
        );
    }
    if name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "the deployment name {name:?} must be at most 64 letters, digits, '-', '_' or '.'"
        ));
    }
    Ok(())
}

/// Runs the marks in the order they were queued: each call takes every mark waiting, in
/// order, as one script, which the server runs as one step. Ends when the store is dropped.
async fn run_marks(
    mut conn: ConnectionManager,
    keys: Keys,
    ttl_ms: u64,
    mut queue: mpsc::UnboundedReceiver<(u32, Mark)>,
    in_hand: Arc<std::sync::Mutex<std::collections::HashSet<u64>>>,
) {
    let script = Script::new(MARK_SCRIPT);
    let mut batch = Vec::new();
    while queue.recv_many(&mut batch, MAX_MARKS).await > 0 {
        let mut call = script.prepare_invoke();
        call.arg(ttl_ms).arg(&keys.prefix);
        for (partition, mark) in &batch {
            call.arg(mark.seq)
                .arg(*partition)
                .arg(mark.fence.as_deref().unwrap_or(""));
        }
        let result: Result<Vec<i64>, String> = call
            .invoke_async::<Vec<i64>>(&mut conn)
            .await
            .map_err(|e| e.to_string());
        {
            // Marked or not, these are out of the worker's hands: a mark that failed leaves its
            // entry pending, to be claimed again.
            let mut held = crate::lock::lock(&in_hand);
            for (_, mark) in &batch {
                held.remove(&mark.seq);
            }
        }
        for (i, (partition, mark)) in batch.drain(..).enumerate() {
            let answer = match &result {
                Ok(codes) if codes.get(i) == Some(&-1) => Err(format!(
                    "partition {partition} is another worker's now (its lease expired): \
                     that worker handles the delivery"
                )),
                Ok(_) => Ok(()),
                Err(e) => Err(e.clone()),
            };
            let _ = mark.reply.send(answer);
        }
    }
}

fn send_field(key: SendKey) -> String {
    format!("{}:{}", key.delivery, key.index)
}

/// A send key as a member of a `sent_to` index: padded, so that the members' order (all have
/// score 0, so they sort as bytes) is the keys' order.
fn index_member(key: SendKey) -> String {
    format!("{:020}:{:010}", key.delivery, key.index)
}

fn parse_send_field(field: &str) -> Option<SendKey> {
    let (delivery, index) = field.split_once(':')?;
    Some(SendKey {
        delivery: delivery.parse().ok()?,
        index: index.parse().ok()?,
    })
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| format!("cannot encode a record: {e}"))
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes)
        .map_err(|e| format!("{what} is not the JSON this version writes: {e}"))
}

/// A send record and its outcome, as stored apart.
fn send_record(record: &[u8], outcome: Option<&[u8]>) -> Result<SendRecord, String> {
    let mut record: SendRecord = decode("a send record", record)?;
    if let Some(outcome) = outcome {
        record.outcome = Some(decode("a send outcome", outcome)?);
    }
    Ok(record)
}

/// The bytes of a bulk string reply; `None` for nil.
fn bulk(value: &Value) -> Result<Option<&[u8]>, String> {
    match value {
        Value::Nil => Ok(None),
        Value::BulkString(bytes) => Ok(Some(bytes)),
        Value::SimpleString(s) => Ok(Some(s.as_bytes())),
        other => Err(format!("expected a string from Redis, got {other:?}")),
    }
}

pub(super) fn items(value: Value) -> Result<Vec<Value>, String> {
    match value {
        Value::Array(items) => Ok(items),
        Value::Nil => Ok(Vec::new()),
        other => Err(format!("expected an array from Redis, got {other:?}")),
    }
}

/// The sequence number of a journal entry id `0-SEQ`.
fn seq_of(id: &[u8]) -> Result<u64, String> {
    std::str::from_utf8(id)
        .ok()
        .and_then(|id| id.strip_prefix("0-"))
        .and_then(|seq| seq.parse().ok())
        .ok_or_else(|| {
            format!(
                "a journal entry id is not 0-SEQ: {}",
                String::from_utf8_lossy(id)
            )
        })
}

/// One `XRANGE` entry: its sequence number and body.
pub(super) fn journal_entry(entry: Value) -> Result<JournalEntry, String> {
    let mut parts = items(entry)?.into_iter();
    let (Some(id), Some(fields)) = (parts.next(), parts.next()) else {
        return Err("a journal entry is not [id, fields]".into());
    };
    let seq = seq_of(bulk(&id)?.unwrap_or_default())?;
    let fields = items(fields)?;
    let body = fields
        .chunks(2)
        .find(|pair| matches!(bulk(&pair[0]), Ok(Some(b"body"))))
        .and_then(|pair| pair.get(1))
        .ok_or_else(|| format!("journal entry {seq} has no body"))?;
    let body = bulk(body)?.unwrap_or_default();
    Ok(JournalEntry::new(seq, Bytes::copy_from_slice(body)))
}

impl Store for RedisStore {
    fn location(&self) -> String {
        self.inner.location.clone()
    }

    fn device(&self) -> StoreFuture<'_, Option<DeviceRecord>> {
        Box::pin(async move {
            let op = "read the device";
            let stored: Option<Vec<u8>> = redis::cmd("GET")
                .arg(self.inner.keys.key("device"))
                .query_async(&mut self.conn())
                .await
                .map_err(|e| self.error(op, e))?;
            stored
                .map(|bytes| decode("the device", &bytes))
                .transpose()
                .map_err(|e| self.error(op, e))
        })
    }

    fn save_device(&self, device: DeviceRecord) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let op = "save the device";
            let bytes = json(&device).map_err(|e| self.error(op, e))?;
            redis::cmd("SET")
                .arg(self.inner.keys.key("device"))
                .arg(bytes)
                .query_async::<()>(&mut self.conn())
                .await
                .map_err(|e| self.error(op, e))
        })
    }

    fn secret_path(&self, candidate: String) -> StoreFuture<'_, String> {
        Box::pin(async move {
            self.inner
                .scripts
                .keep_first
                .key(self.inner.keys.key("secret_path"))
                .arg(candidate)
                .invoke_async(&mut self.conn())
                .await
                .map_err(|e| self.error("keep the secret path", e))
        })
    }

    fn journal(&self, delivery: Delivery) -> StoreFuture<'_, Journaled> {
        Box::pin(async move {
            let keys = &self.inner.keys;
            let seen = delivery.key().map(|key| keys.seen(&key));
            let partition = self.partition_of(
                delivery.app_id.as_deref().unwrap_or(""),
                delivery.conversation.as_deref().unwrap_or(""),
            );
            let mut call = self.inner.scripts.journal.key(keys.journal(partition));
            call.key(keys.key("next_seq"));
            if let Some(seen) = &seen {
                call.key(seen);
            }
            call.arg(delivery.body.as_ref())
                .arg(seen.as_deref().unwrap_or(""))
                .arg(ms_since_epoch(SystemTime::now()))
                .arg(self.inner.partitions)
                .arg(partition);
            let seq: u64 = call
                .invoke_async(&mut self.conn())
                .await
                .map_err(|e| self.error("journal a delivery", e))?;
            Ok(match seq {
                0 => Journaled::Duplicate,
                seq => Journaled::New(seq),
            })
        })
    }

    fn mark_handled(&self, seq: u64) -> StoreFuture<'_, ()> {
        // Queued now, at the call, not when the future is first polled: the queue's order is
        // the order of the calls, which is the order the marks take effect in.
        let (reply, answer) = oneshot::channel();
        let mark = Mark {
            seq,
            fence: self.fence_of(seq),
            reply,
        };
        let queued = self
            .inner
            .marks
            .send((self.partition_of_seq(seq), mark))
            .is_ok();
        Box::pin(async move {
            let op = "mark a delivery handled";
            if !queued {
                return Err(self.error(op, "its mark task has stopped"));
            }
            match answer.await {
                Ok(result) => result.map_err(|e| self.error(op, e)),
                Err(_) => Err(self.error(op, "its mark task stopped mid-call")),
            }
        })
    }

    fn unhandled(&self) -> StoreFuture<'_, Vec<JournalEntry>> {
        Box::pin(async move {
            let op = "read the journal";
            let mut out = Vec::new();
            for partition in 0..self.inner.partitions {
                let journal = self.inner.keys.journal(partition);
                let mut start = "-".to_owned();
                loop {
                    let page: Value = redis::cmd("XRANGE")
                        .arg(&journal)
                        .arg(&start)
                        .arg("+")
                        .arg("COUNT")
                        .arg(PAGE)
                        .query_async(&mut self.conn())
                        .await
                        .map_err(|e| self.error(op, e))?;
                    let entries = items(page).map_err(|e| self.error(op, e))?;
                    let full = entries.len() >= PAGE;
                    let before = out.len();
                    for entry in entries {
                        out.push(journal_entry(entry).map_err(|e| self.error(op, e))?);
                    }
                    match out.last() {
                        // An exclusive start, `(0-SEQ`, reads past the last entry.
                        Some(last) if full && out.len() > before => {
                            start = format!("(0-{}", last.seq)
                        }
                        _ => break,
                    }
                }
            }
            // Sequence numbers are given in delivery order across partitions.
            out.sort_by_key(|entry| entry.seq);
            Ok(out)
        })
    }

    fn begin_send(&self, key: SendKey, send: SendRecord) -> StoreFuture<'_, SendSlot> {
        Box::pin(async move {
            let op = "record a send";
            let record = json(&send).map_err(|e| self.error(op, e))?;
            let keys = &self.inner.keys;
            let mut call = self.inner.scripts.begin_send.key(keys.key("sends"));
            call.key(keys.key("send_outcomes"));
            let fence = self.fence_of(key.delivery);
            if fence.is_some() {
                call.key(keys.partition_lease(self.partition_of_seq(key.delivery)));
            }
            call.arg(send_field(key)).arg(record);
            if let Some(fence) = &fence {
                call.arg(fence);
            }
            let found: Value = call
                .invoke_async(&mut self.conn())
                .await
                .map_err(|e| self.error(op, e))?;
            if found == Value::Int(-1) {
                return Err(self.error(
                    op,
                    format!(
                        "partition {} is another worker's now (its lease expired): that worker \
                         handles the delivery, and this send does not go out",
                        self.partition_of_seq(key.delivery)
                    ),
                ));
            }
            let found = items(found).map_err(|e| self.error(op, e))?;
            match found.as_slice() {
                [] => Ok(SendSlot::Fresh),
                [record, outcome] => {
                    let record = bulk(record)
                        .and_then(|r| r.ok_or_else(|| "a send record vanished".to_owned()))
                        .and_then(|r| send_record(r, bulk(outcome).ok().flatten()))
                        .map_err(|e| self.error(op, e))?;
                    Ok(SendSlot::Recorded(record))
                }
                _ => Err(self.error(op, "the send script answered neither nil nor a pair")),
            }
        })
    }

    fn finish_send(&self, key: SendKey, outcome: SendOutcome) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let op = "record a send's outcome";
            let keys = &self.inner.keys;
            let field = send_field(key);
            let encoded = json(&outcome).map_err(|e| self.error(op, e))?;
            let unbegun = json(&SendRecord::begin("", "")).map_err(|e| self.error(op, e))?;
            let mut call = self.inner.scripts.finish_send.key(keys.key("sends"));
            call.key(keys.key("send_outcomes"));
            if matches!(outcome, SendOutcome::Sent(_)) {
                // The chat is in the record as begun; an accepted send is listed under it.
                if let Some(record) = self.sent(key).await? {
                    if !record.to_wxid.is_empty() {
                        call.key(keys.sent_to(&record.to_wxid));
                    }
                }
            }
            call.arg(field)
                .arg(encoded)
                .arg(unbegun)
                .arg(index_member(key));
            call.invoke_async::<i64>(&mut self.conn())
                .await
                .map(|_| ())
                .map_err(|e| self.error(op, e))
        })
    }

    fn sent(&self, key: SendKey) -> StoreFuture<'_, Option<SendRecord>> {
        Box::pin(async move {
            let op = "read a send";
            let keys = &self.inner.keys;
            let field = send_field(key);
            let (record, outcome): (Option<Vec<u8>>, Option<Vec<u8>>) = redis::pipe()
                .cmd("HGET")
                .arg(keys.key("sends"))
                .arg(&field)
                .cmd("HGET")
                .arg(keys.key("send_outcomes"))
                .arg(&field)
                .query_async(&mut self.conn())
                .await
                .map_err(|e| self.error(op, e))?;
            record
                .map(|r| send_record(&r, outcome.as_deref()))
                .transpose()
                .map_err(|e| self.error(op, e))
        })
    }

    fn sends_to(&self, to_wxid: &str, limit: usize) -> StoreFuture<'_, Vec<(SendKey, SendRecord)>> {
        let index = self.inner.keys.sent_to(to_wxid);
        let to_wxid = to_wxid.to_owned();
        Box::pin(async move {
            let op = "read the sends to a chat";
            if limit == 0 {
                return Ok(Vec::new());
            }
            // Newest first: the index's members sort as the keys do.
            let last = i64::try_from(limit).unwrap_or(i64::MAX).saturating_sub(1);
            let members: Vec<String> = redis::cmd("ZREVRANGE")
                .arg(&index)
                .arg(0)
                .arg(last)
                .query_async(&mut self.conn())
                .await
                .map_err(|e| self.error(op, e))?;
            let keyed: Vec<SendKey> = members.iter().filter_map(|m| parse_send_field(m)).collect();
            let mut out = Vec::with_capacity(keyed.len());
            for key in keyed {
                if let Some(record) = self.sent(key).await? {
                    if record.to_wxid == to_wxid
                        && matches!(record.outcome, Some(SendOutcome::Sent(_)))
                    {
                        out.push((key, record));
                    }
                }
            }
            Ok(out)
        })
    }

    fn prune(&self, before: SystemTime) -> StoreFuture<'_, Pruned> {
        let cutoff = ms_since_epoch(before);
        Box::pin(async move {
            let op = "prune old records";
            let keys = &self.inner.keys;
            let mut conn = self.conn();
            // Dedup keys expire by themselves (their TTL is set when their delivery is
            // handled); only the send records of handled deliveries are pruned here.
            let mut pruned = Pruned::default();
            let mut cursor: u64 = 0;
            loop {
                let (next, page): (u64, Vec<(String, Vec<u8>)>) = redis::cmd("HSCAN")
                    .arg(keys.key("sends"))
                    .arg(cursor)
                    .arg("COUNT")
                    .arg(PAGE)
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| self.error(op, e))?;
                for (field, record) in page {
                    let Some(key) = parse_send_field(&field) else {
                        continue;
                    };
                    let record: SendRecord =
                        decode("a send record", &record).map_err(|e| self.error(op, e))?;
                    if record.begun_ms >= cutoff {
                        continue;
                    }
                    let id = format!("0-{}", key.delivery);
                    let waiting: Value = redis::cmd("XRANGE")
                        .arg(keys.journal(self.partition_of_seq(key.delivery)))
                        .arg(&id)
                        .arg(&id)
                        .query_async(&mut conn)
                        .await
                        .map_err(|e| self.error(op, e))?;
                    if !items(waiting).map_err(|e| self.error(op, e))?.is_empty() {
                        // Its delivery runs again on the next start: the record must stay.
                        continue;
                    }
                    // HSCAN may return a field twice: count what HDEL removed.
                    let (removed, (), ()): (u64, (), ()) = redis::pipe()
                        .atomic()
                        .cmd("HDEL")
                        .arg(keys.key("sends"))
                        .arg(&field)
                        .cmd("HDEL")
                        .arg(keys.key("send_outcomes"))
                        .arg(&field)
                        .cmd("ZREM")
                        .arg(keys.sent_to(&record.to_wxid))
                        .arg(index_member(key))
                        .query_async(&mut conn)
                        .await
                        .map_err(|e| self.error(op, e))?;
                    pruned.sends += removed;
                }
                if next == 0 {
                    return Ok(pruned);
                }
                cursor = next;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{check_deployment, seq_of};

    #[test]
    fn deployment_names() {
        assert!(check_deployment("shop-1.prod_eu").is_ok());
        assert!(check_deployment("").unwrap_err().contains("empty"));
        assert!(check_deployment("a b").unwrap_err().contains("\"a b\""));
        assert!(check_deployment("a}b").is_err());
        assert!(check_deployment(&"x".repeat(65)).is_err());
    }

    #[test]
    fn journal_ids() {
        assert_eq!(seq_of(b"0-42"), Ok(42));
        assert!(seq_of(b"1700000000000-0").is_err());
    }
}
