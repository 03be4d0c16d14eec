//! What a bot keeps across restarts: the [`Store`] trait and the records it holds.
//!
//! One store holds the device (`appId`, wxid, nickname), the webhook's secret path, the dedup
//! keys, the journal of deliveries not yet handled, and the sends. [`FileStore`] is the default,
//! one file on disk; `RedisStore` (feature `redis`) keeps it in Redis, shared by processes.
//!
//! # Atomicity
//!
//! Each method is one atomic step: when its future resolves `Ok`, what it wrote is durable (it
//! survives a `kill -9` or a power cut), and either all of it was written or none. No method
//! spans two steps, and nothing else is promised: a crash between two calls leaves the first
//! written and the second not. The bot is built on that:
//!
//! - [`journal`](Store::journal) checks the dedup key and appends the delivery in one step, so
//!   a delivery is either new and journaled, or a duplicate; GeWe gets its 200 only after it.
//! - [`mark_handled`](Store::mark_handled) drops the delivery from the journal after its
//!   handler finished. A crash before it makes the handler run again on restart.
//! - [`begin_send`](Store::begin_send) records a send before it goes out, or returns what was
//!   recorded for the same key; [`finish_send`](Store::finish_send) records its outcome. A
//!   handler run again after a crash gets the recorded outcome, or learns that the crash came
//!   mid-send, and never sends twice.
//!
//! An implementation may group the steps of concurrent callers into one commit (the file store
//! does), as long as each future resolves only after the commit that holds its step.

pub use super::file_store::FileStore;
#[cfg(feature = "redis")]
pub use super::redis_store::{RedisStore, RedisStoreBuilder};

use crate::Id;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

/// What every [`Store`] method returns: a boxed future, so that `dyn Store` works.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The bot's durable state. See the [module documentation](self) for what each step promises.
pub trait Store: Send + Sync + 'static {
    /// Where the store is, for messages: a file path, a URL without credentials.
    fn location(&self) -> String;

    /// The device this store belongs to, once known.
    fn device(&self) -> StoreFuture<'_, Option<DeviceRecord>>;

    /// Records the device, replacing the record before it.
    fn save_device(&self, device: DeviceRecord) -> StoreFuture<'_, ()>;

    /// The webhook's secret path segment: the stored one, or `candidate`, stored now, when
    /// there is none yet.
    fn secret_path(&self, candidate: String) -> StoreFuture<'_, String>;

    /// In one step: a delivery whose key ([`Delivery::key`]) was journaled before is a
    /// [`Journaled::Duplicate`]; otherwise the key is recorded and the delivery appended to the
    /// journal under the next sequence number. A delivery without a key is always new.
    fn journal(&self, delivery: Delivery) -> StoreFuture<'_, Journaled>;

    /// Drops a delivery from the journal once its handler has finished. Its key stays, so that
    /// a late duplicate is still dropped.
    ///
    /// Marks take effect in the order of the calls, even when the caller does not wait for one
    /// before making the next: once a mark is in, every mark asked for before it is in too,
    /// unless that one failed (and returned its error). The
    /// bot asks for a chat's marks in the chat's order, so that a crash never leaves an earlier
    /// delivery to run again after a later one. [`FileStore`] commits its writes in call order.
    fn mark_handled(&self, seq: u64) -> StoreFuture<'_, ()>;

    /// The journaled deliveries not yet handled, in journal order.
    fn unhandled(&self) -> StoreFuture<'_, Vec<JournalEntry>>;

    /// In one step: the record of the send `key` when there is one, else a new record of
    /// `send` as started (no outcome yet) and [`SendSlot::Fresh`].
    fn begin_send(&self, key: SendKey, send: SendRecord) -> StoreFuture<'_, SendSlot>;

    /// Records the outcome of the send `key`, begun with [`begin_send`](Self::begin_send).
    fn finish_send(&self, key: SendKey, outcome: SendOutcome) -> StoreFuture<'_, ()>;

    /// The record of the send `key`.
    fn sent(&self, key: SendKey) -> StoreFuture<'_, Option<SendRecord>>;

    /// The sends to `to_wxid` that GeWe accepted ([`SendOutcome::Sent`]), newest first, at
    /// most `limit`: GeWe sends no callback for a message the bot sent, so these records are
    /// what revoking or quoting it can start from.
    fn sends_to(&self, to_wxid: &str, limit: usize) -> StoreFuture<'_, Vec<(SendKey, SendRecord)>>;

    /// Forgets dedup keys and send records older than `before`. Unhandled deliveries, their
    /// dedup keys and their send records are kept whatever their age: the delivery runs again
    /// on the next start, and must neither be journaled again by a late duplicate nor send
    /// again what it sent before.
    fn prune(&self, before: SystemTime) -> StoreFuture<'_, Pruned>;
}

/// The device a bot runs as.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// GeWe's device id. Keep it: logging in without it creates a new device.
    pub app_id: String,
    /// The account's wxid, once logged in.
    pub wxid: Option<String>,
    /// The account's nickname, once logged in.
    pub nick_name: Option<String>,
}

impl DeviceRecord {
    /// A device known by its `appId` only.
    pub fn new(app_id: impl Into<String>) -> Self {
        DeviceRecord {
            app_id: app_id.into(),
            wxid: None,
            nick_name: None,
        }
    }

    /// The same device, with the account that logged in on it.
    pub fn with_account(mut self, wxid: Option<String>, nick_name: Option<String>) -> Self {
        self.wxid = wxid.or(self.wxid);
        self.nick_name = nick_name.or(self.nick_name);
        self
    }
}

/// A delivery to journal: its body as received, and its dedup key's parts.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The delivery's `Appid`.
    pub app_id: Option<String>,
    /// Its `NewMsgId`; `None` for deliveries that have none (the offline notice).
    pub new_msg_id: Option<Id>,
    /// The body, as GeWe sent it.
    pub body: Bytes,
    /// The conversation it belongs to (a chat, a contact, or the device), when the bot knows
    /// it: a store shared by workers keeps one conversation's deliveries in one partition.
    pub conversation: Option<String>,
}

impl Delivery {
    /// A delivery of `body` with its key's parts.
    pub fn new(app_id: Option<String>, new_msg_id: Option<Id>, body: Bytes) -> Self {
        Delivery {
            app_id,
            new_msg_id,
            body,
            conversation: None,
        }
    }

    /// The delivery, in `conversation`.
    pub fn in_conversation(mut self, conversation: impl Into<String>) -> Self {
        self.conversation = Some(conversation.into());
        self
    }

    /// The dedup key, `{Appid}/{NewMsgId}` (an id written as digits, whatever its JSON form);
    /// `None` without a `NewMsgId`.
    pub fn key(&self) -> Option<String> {
        let id = self.new_msg_id.as_ref()?;
        Some(format!("{}/{id}", self.app_id.as_deref().unwrap_or("")))
    }
}

/// What [`Store::journal`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Journaled {
    /// A new delivery, journaled under this sequence number.
    New(u64),
    /// Its key was journaled before: a duplicate, not journaled again.
    Duplicate,
}

/// A journaled delivery not yet handled.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalEntry {
    /// Its sequence number, in delivery order.
    pub seq: u64,
    /// Its body, as GeWe sent it.
    pub body: Bytes,
}

impl JournalEntry {
    /// An entry.
    pub fn new(seq: u64, body: Bytes) -> Self {
        JournalEntry { seq, body }
    }
}

/// Which send: the delivery whose handler made it, and its place among that handler's sends
/// (0 for the first). A handler run again after a crash makes the same sends in the same order,
/// so each gets the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SendKey {
    /// The delivery's journal sequence number.
    pub delivery: u64,
    /// The send's place in the handler.
    pub index: u32,
}

/// A send: what went out, and how it ended.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendRecord {
    /// The operation, e.g. `/message/postText`.
    pub operation: String,
    /// The chat it went to.
    pub to_wxid: String,
    /// When it was begun, in ms since the Unix epoch.
    pub begun_ms: u64,
    /// The text of a text send, which quoting the message needs: GeWe's answer leaves it out.
    /// Absent from records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// How it ended; `None` while it is under way, or when the process stopped mid-send.
    pub outcome: Option<SendOutcome>,
}

impl SendRecord {
    /// A send of `operation` to `to_wxid`, begun now.
    pub fn begin(operation: impl Into<String>, to_wxid: impl Into<String>) -> Self {
        SendRecord {
            operation: operation.into(),
            to_wxid: to_wxid.into(),
            begun_ms: now_ms(),
            text: None,
            outcome: None,
        }
    }

    /// The same record, with the text the send carries.
    pub fn with_text(mut self, text: Option<String>) -> Self {
        self.text = text;
        self
    }
}

/// How a send ended.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SendOutcome {
    /// GeWe accepted it; its `data` (`msgId`, `newMsgId`, `createTime`, …), which revoking or
    /// quoting the message needs.
    Sent(Value),
    /// It failed; the error as text.
    Failed(String),
}

/// What [`Store::begin_send`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum SendSlot {
    /// No send had this key: it is recorded as begun, and may go out.
    Fresh,
    /// A send with this key was recorded before; it must not go out again.
    Recorded(SendRecord),
}

/// What [`Store::prune`] removed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Dedup keys.
    pub keys: u64,
    /// Send records.
    pub sends: u64,
}

/// A store operation failed.
#[derive(Debug)]
pub struct StoreError {
    /// What was being done, e.g. `journal a delivery`.
    pub operation: &'static str,
    /// The store's [`location`](Store::location).
    pub location: String,
    /// The cause.
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl StoreError {
    /// An error of `operation` on the store at `location`.
    pub fn new(
        operation: &'static str,
        location: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        StoreError {
            operation,
            location: location.into(),
            source: source.into(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bot store {}: cannot {}", self.location, self.operation)
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    ms_since_epoch(SystemTime::now())
}

/// `at` in milliseconds since the Unix epoch (0 before it).
pub(crate) fn ms_since_epoch(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
