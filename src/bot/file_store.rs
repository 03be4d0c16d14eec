//! [`FileStore`]: the default [`Store`], one [redb](https://docs.rs/redb) file.
//!
//! redb is an embedded key-value store in pure Rust: copy-on-write B-trees with checksummed
//! commits, so a `kill -9` or a power cut at any moment leaves the last committed state, and the
//! file opens again (repairing itself when it must). It has no dependencies of its own.
//!
//! Writes go through one writer thread that groups the steps of concurrent callers into one
//! commit: under load, one fsync acknowledges many deliveries. Each caller's future resolves
//! only after the commit that holds its step, so GeWe's 200 always follows the durable journal.

use super::store::{
    ms_since_epoch, now_ms, Delivery, DeviceRecord, JournalEntry, Journaled, Pruned, SendKey,
    SendOutcome, SendRecord, SendSlot, Store, StoreError, StoreFuture,
};
use crate::lock::lock;
use bytes::Bytes;
use redb::{
    Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    WriteTransaction,
};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::SystemTime;
use tokio::sync::oneshot;

/// Small named values: the device, the secret path, the next sequence number.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Dedup key → when it was journaled (ms since the epoch). Pruning scans it: an hourly scan
/// of a week's keys is cheaper than an age index written with every delivery.
const SEEN: TableDefinition<&str, u64> = TableDefinition::new("seen");
/// Sequence number → the body of a delivery not yet handled.
const JOURNAL: TableDefinition<u64, &[u8]> = TableDefinition::new("journal");
/// Sequence number → the dedup key of a delivery not yet handled, removed with its journal
/// entry. Pruning keeps these keys whatever their age: a key pruned while its delivery waits
/// would let a late duplicate be journaled, and handled, a second time.
const PENDING_KEYS: TableDefinition<u64, &str> = TableDefinition::new("pending_keys");
/// Send key (12 bytes: big-endian delivery, then index) → the send record, as JSON.
const SENDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("sends");

const DEVICE: &str = "device";
const SECRET: &str = "secret_path";
const NEXT_SEQ: &str = "next_seq";

/// The most steps one commit holds, so that one commit's latency stays bounded.
const MAX_BATCH: usize = 4096;

/// The default [`Store`]: one file, written by a thread of its own. Cheap to clone; the file
/// closes when the last clone is dropped.
#[derive(Clone)]
pub struct FileStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    db: Arc<Database>,
    /// `None` only while dropping.
    jobs: Option<mpsc::Sender<Job>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Inner {
    /// Closes the queue and waits for the writer to commit what it holds, so that the file
    /// is closed, and can be opened again, once the last clone is gone.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

/// What a step reports once its commit is known: `Ok` when it is durable.
type Reply = Box<dyn FnOnce(Result<(), &str>) + Send>;

/// What a step does in its batch's transaction.
type Step = Box<dyn FnOnce(&WriteTransaction) -> Result<(), redb::Error> + Send>;

/// One step of a batch: it runs in the batch's transaction, and its reply goes out once the
/// batch is committed (or undone).
struct Job {
    step: Step,
    reply: Reply,
}

impl FileStore {
    /// Opens the store at `path`, creating it (and no parent folder) when it does not exist.
    /// A file left by a crash is repaired on opening.
    ///
    /// # Errors
    /// The file cannot be created or opened (no such folder, no permission, held by another
    /// process, not a store).
    pub fn open(path: impl AsRef<Path>) -> Result<FileStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let location = path.display().to_string();
        let fail = |op, e: redb::Error| StoreError::new(op, location.clone(), e);
        let db = Database::create(&path).map_err(|e| fail("open the file", e.into()))?;
        // Every table exists from the start, so that reads never meet a missing one.
        let txn = db
            .begin_write()
            .map_err(|e| fail("open the file", e.into()))?;
        create_tables(&txn).map_err(|e| fail("open the file", e))?;
        txn.commit().map_err(|e| fail("open the file", e.into()))?;
        let db = Arc::new(db);
        let (jobs, queue) = mpsc::channel::<Job>();
        let writer_db = Arc::clone(&db);
        let writer = std::thread::Builder::new()
            .name("gewe-bot-store".into())
            .spawn(move || write_batches(&writer_db, &queue))
            .map_err(|e| StoreError::new("start its writer thread", location.clone(), e))?;
        Ok(FileStore {
            inner: Arc::new(Inner {
                path,
                db,
                jobs: Some(jobs),
                writer: Some(writer),
            }),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `step` in the next batch's transaction; resolves once its commit is durable.
    fn write<T, F>(&self, operation: &'static str, step: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, redb::Error> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, StoreError>>();
        let location = self.location();
        let job_location = location.clone();
        let slot = Arc::new(Mutex::new(None::<T>));
        let filled = Arc::clone(&slot);
        let job = Job {
            step: Box::new(move |txn| {
                let value = step(txn)?;
                *lock(&filled) = Some(value);
                Ok(())
            }),
            reply: Box::new(move |commit| {
                let value = lock(&slot).take();
                let result = match (commit, value) {
                    (Ok(()), Some(value)) => Ok(value),
                    (Err(why), _) => Err(StoreError::new(operation, job_location, why.to_owned())),
                    (Ok(()), None) => Err(StoreError::new(
                        operation,
                        job_location,
                        "the step did not run",
                    )),
                };
                let _ = tx.send(result);
            }),
        };
        let sent = match &self.inner.jobs {
            Some(jobs) => jobs.send(job).is_ok(),
            None => false,
        };
        Box::pin(async move {
            if !sent {
                return Err(StoreError::new(
                    operation,
                    location,
                    "its writer thread has stopped",
                ));
            }
            rx.await.unwrap_or_else(|_| {
                Err(StoreError::new(
                    operation,
                    location,
                    "its writer thread stopped mid-commit",
                ))
            })
        })
    }

    /// Runs `read` on a snapshot of the last commit, off the async runtime.
    fn read<T, F>(&self, operation: &'static str, read: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&redb::ReadTransaction) -> Result<T, redb::Error> + Send + 'static,
    {
        let db = Arc::clone(&self.inner.db);
        let location = self.location();
        Box::pin(async move {
            let run = move || {
                let txn = db.begin_read()?;
                read(&txn)
            };
            match tokio::task::spawn_blocking(run).await {
                Ok(result) => result.map_err(|e| StoreError::new(operation, location, e)),
                Err(e) => Err(StoreError::new(operation, location, e)),
            }
        })
    }
}

fn create_tables(txn: &WriteTransaction) -> Result<(), redb::Error> {
    txn.open_table(META)?;
    txn.open_table(SEEN)?;
    txn.open_table(JOURNAL)?;
    txn.open_table(PENDING_KEYS)?;
    txn.open_table(SENDS)?;
    Ok(())
}

/// The writer thread: takes every step waiting, runs them in one transaction, commits once,
/// and replies to each. Ends when the last [`FileStore`] is dropped.
fn write_batches(db: &Database, queue: &mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let txn = match db.begin_write() {
            Ok(txn) => txn,
            Err(e) => {
                let why = e.to_string();
                tracing::error!(error = %why, "gewe bot store: cannot begin a commit");
                for job in batch {
                    (job.reply)(Err(&why));
                }
                continue;
            }
        };
        let mut replies = Vec::with_capacity(batch.len());
        let mut failure: Option<String> = None;
        for job in batch {
            if failure.is_none() {
                if let Err(e) = (job.step)(&txn) {
                    failure = Some(e.to_string());
                }
            }
            replies.push(job.reply);
        }
        let result = match failure {
            // A failed step may have written half of itself: the whole batch is undone.
            Some(why) => {
                let _ = txn.abort();
                Err(format!("the batch was undone: {why}"))
            }
            None => txn.commit().map_err(|e| e.to_string()),
        };
        if let Err(why) = &result {
            tracing::error!(error = %why, "gewe bot store: a commit failed");
        }
        for reply in replies {
            reply(result.as_ref().map(|_| ()).map_err(String::as_str));
        }
    }
}

fn send_key_bytes(key: SendKey) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[..8].copy_from_slice(&key.delivery.to_be_bytes());
    out[8..].copy_from_slice(&key.index.to_be_bytes());
    out
}

/// The delivery of a send key written by [`send_key_bytes`].
fn send_key_delivery(key: &[u8]) -> Result<u64, redb::Error> {
    send_key_from_bytes(key).map(|key| key.delivery)
}

/// A send key written by [`send_key_bytes`].
fn send_key_from_bytes(key: &[u8]) -> Result<SendKey, redb::Error> {
    let (Ok(delivery), Ok(index)) = (
        <[u8; 8]>::try_from(&key[..key.len().min(8)]),
        <[u8; 4]>::try_from(key.get(8..).unwrap_or_default()),
    ) else {
        return Err(redb::Error::Corrupted("a send key is not 12 bytes".into()));
    };
    Ok(SendKey {
        delivery: u64::from_be_bytes(delivery),
        index: u32::from_be_bytes(index),
    })
}

fn json_error(e: serde_json::Error) -> redb::Error {
    redb::Error::Corrupted(format!("a record is not the JSON this version writes: {e}"))
}

fn decode_send(bytes: &[u8]) -> Result<SendRecord, redb::Error> {
    serde_json::from_slice(bytes).map_err(json_error)
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, redb::Error> {
    serde_json::to_vec(value).map_err(json_error)
}

impl Store for FileStore {
    fn location(&self) -> String {
        self.inner.path.display().to_string()
    }

    fn device(&self) -> StoreFuture<'_, Option<DeviceRecord>> {
        self.read("read the device", |txn| {
            let meta = txn.open_table(META)?;
            let Some(bytes) = meta.get(DEVICE)? else {
                return Ok(None);
            };
            serde_json::from_slice(bytes.value())
                .map(Some)
                .map_err(json_error)
        })
    }

    fn save_device(&self, device: DeviceRecord) -> StoreFuture<'_, ()> {
        self.write("save the device", move |txn| {
            let bytes = encode(&device)?;
            txn.open_table(META)?.insert(DEVICE, bytes.as_slice())?;
            Ok(())
        })
    }

    fn secret_path(&self, candidate: String) -> StoreFuture<'_, String> {
        self.write("keep the secret path", move |txn| {
            let mut meta = txn.open_table(META)?;
            if let Some(stored) = meta.get(SECRET)? {
                return String::from_utf8(stored.value().to_vec()).map_err(|e| {
                    redb::Error::Corrupted(format!("the secret path is not UTF-8: {e}"))
                });
            }
            meta.insert(SECRET, candidate.as_bytes())?;
            Ok(candidate)
        })
    }

    fn journal(&self, delivery: Delivery) -> StoreFuture<'_, Journaled> {
        self.write("journal a delivery", move |txn| {
            let key = delivery.key();
            if let Some(key) = &key {
                let mut seen = txn.open_table(SEEN)?;
                if seen.get(key.as_str())?.is_some() {
                    return Ok(Journaled::Duplicate);
                }
                seen.insert(key.as_str(), now_ms())?;
            }
            let mut meta = txn.open_table(META)?;
            let seq = match meta.get(NEXT_SEQ)? {
                Some(bytes) => {
                    let raw: [u8; 8] = bytes.value().try_into().map_err(|_| {
                        redb::Error::Corrupted("the sequence number is not 8 bytes".into())
                    })?;
                    u64::from_le_bytes(raw)
                }
                None => 1,
            };
            meta.insert(NEXT_SEQ, (seq + 1).to_le_bytes().as_slice())?;
            txn.open_table(JOURNAL)?
                .insert(seq, delivery.body.as_ref())?;
            if let Some(key) = &key {
                txn.open_table(PENDING_KEYS)?.insert(seq, key.as_str())?;
            }
            Ok(Journaled::New(seq))
        })
    }

    fn mark_handled(&self, seq: u64) -> StoreFuture<'_, ()> {
        self.write("mark a delivery handled", move |txn| {
            txn.open_table(JOURNAL)?.remove(seq)?;
            txn.open_table(PENDING_KEYS)?.remove(seq)?;
            Ok(())
        })
    }

    fn unhandled(&self) -> StoreFuture<'_, Vec<JournalEntry>> {
        self.read("read the journal", |txn| {
            let journal = txn.open_table(JOURNAL)?;
            let mut out = Vec::with_capacity(usize::try_from(journal.len()?).unwrap_or(0));
            for entry in journal.iter()? {
                let (seq, body) = entry?;
                out.push(JournalEntry::new(
                    seq.value(),
                    Bytes::copy_from_slice(body.value()),
                ));
            }
            Ok(out)
        })
    }

    fn begin_send(&self, key: SendKey, send: SendRecord) -> StoreFuture<'_, SendSlot> {
        self.write("record a send", move |txn| {
            let mut sends = txn.open_table(SENDS)?;
            let k = send_key_bytes(key);
            if let Some(bytes) = sends.get(k.as_slice())? {
                return Ok(SendSlot::Recorded(decode_send(bytes.value())?));
            }
            sends.insert(k.as_slice(), encode(&send)?.as_slice())?;
            Ok(SendSlot::Fresh)
        })
    }

    fn finish_send(&self, key: SendKey, outcome: SendOutcome) -> StoreFuture<'_, ()> {
        self.write("record a send's outcome", move |txn| {
            let mut sends = txn.open_table(SENDS)?;
            let k = send_key_bytes(key);
            let mut record = match sends.get(k.as_slice())? {
                Some(bytes) => decode_send(bytes.value())?,
                None => SendRecord::begin("", ""),
            };
            record.outcome = Some(outcome);
            sends.insert(k.as_slice(), encode(&record)?.as_slice())?;
            Ok(())
        })
    }

    fn sent(&self, key: SendKey) -> StoreFuture<'_, Option<SendRecord>> {
        self.read("read a send", move |txn| {
            let sends = txn.open_table(SENDS)?;
            match sends.get(send_key_bytes(key).as_slice())? {
                Some(bytes) => decode_send(bytes.value()).map(Some),
                None => Ok(None),
            }
        })
    }

    fn sends_to(&self, to_wxid: &str, limit: usize) -> StoreFuture<'_, Vec<(SendKey, SendRecord)>> {
        let to_wxid = to_wxid.to_owned();
        // A scan, newest first: the sends kept are bounded by the retention, and a look-up is
        // rare (a revoke), so an index by chat would cost every send for little.
        self.read("read the sends to a chat", move |txn| {
            let mut out = Vec::new();
            for entry in txn.open_table(SENDS)?.iter()?.rev() {
                if out.len() >= limit {
                    break;
                }
                let (k, v) = entry?;
                let record = decode_send(v.value())?;
                if record.to_wxid == to_wxid && matches!(record.outcome, Some(SendOutcome::Sent(_)))
                {
                    out.push((send_key_from_bytes(k.value())?, record));
                }
            }
            Ok(out)
        })
    }

    fn prune(&self, before: SystemTime) -> StoreFuture<'_, Pruned> {
        let cutoff = ms_since_epoch(before);
        self.write("prune old records", move |txn| {
            let mut pruned = Pruned::default();
            // A delivery not yet handled runs again on the next start: its dedup key and its
            // sends must outlive any retention, or a late duplicate would be handled twice and
            // a re-run would send again what it sent before.
            let journal = txn.open_table(JOURNAL)?;
            let mut pending = std::collections::HashSet::new();
            for entry in txn.open_table(PENDING_KEYS)?.iter()? {
                let (_, key) = entry?;
                pending.insert(key.value().to_owned());
            }
            let mut seen = txn.open_table(SEEN)?;
            for old in seen.extract_if(|key, at| at < cutoff && !pending.contains(key))? {
                old?;
                pruned.keys += 1;
            }
            let mut sends = txn.open_table(SENDS)?;
            let mut stale = Vec::new();
            for entry in sends.iter()? {
                let (k, v) = entry?;
                if decode_send(v.value())?.begun_ms < cutoff
                    && journal.get(send_key_delivery(k.value())?)?.is_none()
                {
                    stale.push(k.value().to_vec());
                }
            }
            for k in &stale {
                sends.remove(k.as_slice())?;
                pruned.sends += 1;
            }
            Ok(pruned)
        })
    }
}
