//! The bot as one of a deployment's workers on Redis (feature `redis`).
//!
//! The conversations are spread over the deployment's partitions (a hash of `Appid` and the
//! chat), each a journal stream. A worker handles a partition only while it holds the
//! partition's [`Lease`], whose fencing token its marks and sends carry, so two workers never
//! handle one conversation at once and its order holds across workers.
//!
//! **How partitions move.** Every worker beats in the sorted set `workers` every second (or
//! each third of the lease, when shorter); a worker that missed a whole lease is no longer
//! counted. Each worker takes free
//! partitions up to its share, `ceil(P / live workers)`, and sheds what it holds above it: a
//! shed partition is read no more, its deliveries under way finish and are acknowledged, then
//! its lease is released for a newcomer to take. A worker that dies stops renewing: its leases
//! expire after at most one lease, and the others, whose shares grow, take its partitions.
//!
//! **Taking a partition over.** The new holder first claims what the previous holder read
//! but did not acknowledge (`XAUTOCLAIM`), once idle for the claim time, and hands it to its
//! handlers in journal order; it reads new deliveries of the partition only when nothing of
//! another worker is pending there, so the order holds across the hand-over. Claim time and
//! lease are both longer than the handler timeout: a slow handler is never run twice at once.

use super::dispatch::Item;
use super::redis_group::JournalConsumer;
use super::redis_lease::Lease;
use super::redis_store::RedisStore;
use super::shared::Shared;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How many entries one read takes per partition.
const READ_COUNT: usize = 128;

/// The longest the loop waits between looks at its partitions: claims and drains progress at
/// this pace.
const TICK: Duration = Duration::from_millis(100);

/// How often a worker beats at most: a joining worker is counted, and given its share, within
/// about this, whatever the lease.
const BEAT: Duration = Duration::from_secs(1);

/// What the worker is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Take partitions and handle their deliveries.
    Run,
    /// Read nothing more, keep the leases while the handlers under way finish.
    Stop,
    /// Give the leases up and leave.
    Release,
}

/// What the worker does with a partition it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    /// Claiming the previous holder's pending deliveries; no new ones read yet.
    Claiming,
    /// Reading new deliveries.
    Reading,
    /// Shed: no new reads; released once its deliveries under way are acknowledged.
    Draining,
}

struct Partition {
    lease: Lease,
    held: Held,
}

/// A running worker.
pub(crate) struct Worker {
    phase: watch::Sender<Phase>,
    task: JoinHandle<()>,
}

impl Worker {
    /// Starts the worker of `shared`'s bot on `store`, handing deliveries to `dispatcher`, at
    /// most `max_waiting` read and not yet handled.
    pub(crate) fn start(
        shared: Arc<Shared>,
        store: RedisStore,
        dispatcher: mpsc::UnboundedSender<Item>,
        max_waiting: u64,
    ) -> Worker {
        let (phase, watched) = watch::channel(Phase::Run);
        let task = tokio::spawn(run(shared, store, dispatcher, max_waiting, watched));
        Worker { phase, task }
    }

    /// Reads no more; the leases are kept while the handlers under way finish.
    pub(crate) fn stop_reading(&self) {
        self.phase.send_replace(Phase::Stop);
    }

    /// Releases the leases, so that other workers take the partitions at once, and leaves.
    pub(crate) async fn release(mut self) {
        self.phase.send_replace(Phase::Release);
        if tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A name no other worker has, nor had: host, process, and a random part.
fn worker_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty() && !h.contains(char::is_whitespace))
        .unwrap_or_else(|| "worker".to_owned());
    format!("{host}-{}-{:08x}", std::process::id(), fastrand::u32(..))
}

fn ms_now() -> u64 {
    super::store::now_ms()
}

async fn run(
    shared: Arc<Shared>,
    store: RedisStore,
    dispatcher: mpsc::UnboundedSender<Item>,
    max_waiting: u64,
    mut phase: watch::Receiver<Phase>,
) {
    let name = worker_name();
    let consumer = loop {
        match store.consumer(name.clone()).await {
            Ok(consumer) => break consumer,
            Err(error) => {
                tracing::warn!(%error, "gewe bot: the worker cannot reach Redis; retrying");
                if *phase.borrow() == Phase::Release {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    tracing::info!(worker = %name, partitions = store.partitions(), "gewe bot: worker started");
    let lease = store.lease();
    let renew_every = lease / 3;
    let mut held: BTreeMap<u32, Partition> = BTreeMap::new();
    let mut next_renew = Instant::now();
    let mut next_beat = Instant::now();
    let mut live: u32 = 1;
    loop {
        let now_phase = *phase.borrow_and_update();
        if now_phase == Phase::Release {
            leave(&store, &name, held).await;
            return;
        }
        if Instant::now() >= next_beat {
            live = heartbeat(&store, &name).await.unwrap_or(live);
            next_beat = Instant::now() + BEAT.min(renew_every);
        }
        let renewing = Instant::now() >= next_renew;
        if renewing {
            let started = Instant::now();
            renew(&store, &mut held, started).await;
            next_renew = started + renew_every;
        }
        if now_phase == Phase::Run {
            balance(&store, &name, &mut held, live).await;
        }
        let step = advance(&shared, &store, &consumer, &dispatcher, &mut held, renewing).await;
        let waiting = shared.stats.waiting.load(Ordering::Relaxed);
        let reading: Vec<u32> = held
            .iter()
            .filter(|(_, p)| p.held == Held::Reading)
            .map(|(n, _)| *n)
            .collect();
        let block = TICK
            .min(next_renew.saturating_duration_since(Instant::now()))
            .min(next_beat.saturating_duration_since(Instant::now()));
        if now_phase != Phase::Run || waiting >= max_waiting || reading.is_empty() || step.is_err()
        {
            tokio::select! {
                () = tokio::time::sleep(block) => {}
                _ = phase.changed() => {}
            }
            continue;
        }
        match consumer.read(&reading, READ_COUNT, block).await {
            Ok(entries) => hand_over(&shared, &store, &dispatcher, entries, true).await,
            Err(error) => {
                tracing::warn!(%error, "gewe bot: the worker cannot read the journal");
                tokio::time::sleep(TICK).await;
            }
        }
    }
}

/// Beats in `workers` and returns how many workers beat within a lease.
async fn heartbeat(store: &RedisStore, name: &str) -> Option<u32> {
    let now = ms_now();
    let lease_ms = u64::try_from(store.lease().as_millis()).unwrap_or(u64::MAX);
    let key = store.key("workers");
    let answer: Result<((), (), u32), _> = redis::pipe()
        .atomic()
        .cmd("ZADD")
        .arg(&key)
        .arg(now)
        .arg(name)
        .cmd("ZREMRANGEBYSCORE")
        .arg(&key)
        .arg("-inf")
        .arg(format!("({}", now.saturating_sub(lease_ms)))
        .cmd("ZCARD")
        .arg(&key)
        .query_async(&mut store.conn())
        .await;
    match answer {
        Ok((_, _, live)) => Some(live.max(1)),
        Err(error) => {
            tracing::warn!(%error, "gewe bot: the worker cannot beat in Redis");
            None
        }
    }
}

/// Renews every lease held; a lease lost is dropped, and its fence ended, so that nothing of
/// its partition starts or is written here any more.
async fn renew(store: &RedisStore, held: &mut BTreeMap<u32, Partition>, started: Instant) {
    let lease = store.lease();
    let mut lost = Vec::new();
    for (number, partition) in held.iter() {
        match partition.lease.renew(lease).await {
            Ok(true) => store.set_fence(
                *number,
                partition.lease.value().to_owned(),
                (started + valid_for(lease)).into_std(),
            ),
            Ok(false) => lost.push(*number),
            // Unknown: the fence lapses by itself when the lease may have expired.
            Err(error) => {
                tracing::warn!(%error, partition = number, "gewe bot: cannot renew a partition's lease")
            }
        }
    }
    for number in lost {
        tracing::warn!(
            partition = number,
            "gewe bot: lost a partition's lease; another worker handles it now"
        );
        store.expire_fence(number);
        held.remove(&number);
    }
}

/// How long after a renewal is sent the lease is surely still held: a tenth less than the
/// lease, for the time the renewal took and for clocks running apart.
fn valid_for(lease: Duration) -> Duration {
    lease - lease / 10
}

/// Takes free partitions up to this worker's share, and sheds what it holds above it.
async fn balance(store: &RedisStore, name: &str, held: &mut BTreeMap<u32, Partition>, live: u32) {
    let total = store.partitions();
    let share = total.div_ceil(live.max(1)) as usize;
    let active = held.values().filter(|p| p.held != Held::Draining).count();
    if active < share {
        // Start where this worker's name points, so that workers starting together do not
        // all race for partition 0.
        let offset = store.partition_of(name, "");
        let mut wanted = share - active;
        for i in 0..total {
            if wanted == 0 {
                break;
            }
            let number = (offset + i) % total;
            if held.contains_key(&number) {
                continue;
            }
            let started = Instant::now();
            match store
                .acquire_lease(&format!("partition:{number}"), name, store.lease())
                .await
            {
                Ok(Some(lease)) => {
                    store.set_fence(
                        number,
                        lease.value().to_owned(),
                        (started + valid_for(store.lease())).into_std(),
                    );
                    tracing::info!(
                        partition = number,
                        token = lease.token(),
                        "gewe bot: took a partition"
                    );
                    held.insert(
                        number,
                        Partition {
                            lease,
                            held: Held::Claiming,
                        },
                    );
                    wanted -= 1;
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, "gewe bot: cannot take a partition");
                    return;
                }
            }
        }
    } else if active > share {
        let extra = active - share;
        let shed: Vec<u32> = held
            .iter()
            .rev()
            .filter(|(_, p)| p.held != Held::Draining)
            .take(extra)
            .map(|(n, _)| *n)
            .collect();
        for number in shed {
            if let Some(partition) = held.get_mut(&number) {
                tracing::info!(
                    partition = number,
                    "gewe bot: shedding a partition to another worker"
                );
                partition.held = Held::Draining;
            }
        }
    }
}

/// Moves claims and drains on. A claiming partition hands over the idle deliveries pending
/// there that are in no worker's hands (the previous holder's, or this worker's own lost on
/// the way: a read whose answer never came, a mark Redis never took), and reads once every
/// pending delivery is in this worker's hands. A reading partition is checked the same way at
/// each renewal, for what was lost since. A draining one is released once nothing of it is in
/// this worker's hands.
async fn advance(
    shared: &Shared,
    store: &RedisStore,
    consumer: &JournalConsumer,
    dispatcher: &mpsc::UnboundedSender<Item>,
    held: &mut BTreeMap<u32, Partition>,
    renewing: bool,
) -> Result<(), super::store::StoreError> {
    let numbers: Vec<u32> = held
        .iter()
        .filter(|(_, p)| renewing || p.held != Held::Reading)
        .map(|(n, _)| *n)
        .collect();
    for number in numbers {
        let state = held.get(&number).map(|p| p.held);
        let (mine, others) = consumer.pending(number).await?;
        let lost = mine + others > store.in_hand(number);
        match state {
            Some(Held::Claiming) if !lost => {
                if let Some(p) = held.get_mut(&number) {
                    p.held = Held::Reading;
                }
            }
            Some(Held::Reading) if !lost => {
                // At each renewal: what the workers no longer need leaves the stream.
                let trimmed = consumer.trim(number).await?;
                if trimmed > 0 {
                    tracing::debug!(partition = number, trimmed, "gewe bot: journal trimmed");
                }
            }
            Some(Held::Claiming | Held::Reading) if lost => {
                let claimed: Vec<_> = consumer
                    .claim_idle(number, store.claim_after(), READ_COUNT)
                    .await?
                    .into_iter()
                    // Claiming resets an entry's idle time; one already in hand stays there.
                    .filter(|entry| store.take_in_hand(entry.seq))
                    .collect();
                if !claimed.is_empty() {
                    tracing::warn!(
                        partition = number,
                        count = claimed.len(),
                        "gewe bot: handling deliveries a stopped worker, or a failed step, left unhandled"
                    );
                }
                hand_over(shared, store, dispatcher, claimed, false).await;
            }
            // What this worker lost on the way stays pending for the next holder to claim.
            Some(Held::Draining) if store.in_hand(number) == 0 => {
                if let Some(partition) = held.remove(&number) {
                    store.expire_fence(number);
                    if let Err(error) = partition.lease.release().await {
                        tracing::warn!(%error, partition = number, "gewe bot: cannot release a partition's lease; it expires");
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Hands journal entries to the dispatcher, in order; `take` notes them as in hand first (a
/// claim has done so already).
async fn hand_over(
    shared: &Shared,
    store: &RedisStore,
    dispatcher: &mpsc::UnboundedSender<Item>,
    entries: Vec<super::store::JournalEntry>,
    take: bool,
) {
    use super::store::Store;
    for entry in entries {
        if take {
            store.take_in_hand(entry.seq);
        }
        match serde_json::from_slice(&entry.body) {
            Ok(value) => {
                shared.stats.waiting.fetch_add(1, Ordering::Relaxed);
                let _ = dispatcher.send(Item::Delivery(Some(entry.seq), value));
            }
            Err(error) => {
                // The webhook journals only JSON objects: this entry was not written by it.
                tracing::error!(%error, seq = entry.seq, "gewe bot: a journaled delivery is not JSON; dropped");
                if let Err(error) = store.mark_handled(entry.seq).await {
                    tracing::warn!(%error, "gewe bot: cannot drop a delivery that is not JSON");
                }
            }
        }
    }
}

/// Releases every lease and leaves `workers`, so that the others take the partitions now
/// rather than when the leases expire.
async fn leave(store: &RedisStore, name: &str, held: BTreeMap<u32, Partition>) {
    for (number, partition) in held {
        store.expire_fence(number);
        if let Err(error) = partition.lease.release().await {
            tracing::warn!(%error, partition = number, "gewe bot: cannot release a partition's lease; it expires");
        }
    }
    let left: Result<(), _> = redis::cmd("ZREM")
        .arg(store.key("workers"))
        .arg(name)
        .query_async(&mut store.conn())
        .await;
    if let Err(error) = left {
        tracing::warn!(%error, "gewe bot: cannot leave the workers' set");
    }
}
