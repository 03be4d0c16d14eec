//! Ordered within a chat, concurrent across chats: the dispatcher.
//!
//! Events are put into lanes by conversation: the chat of a message, the contact of a contact
//! change, and one lane for the device itself (the offline notice, state changes). A lane runs
//! one event at a time, in the order the events arrived; up to
//! [`max_concurrent_chats`](super::Bot::max_concurrent_chats) lanes run at once, and a lane
//! waiting for a free slot gets one in turn. A slow handler holds up its own lane only, never
//! another chat, and never the answer to GeWe, which the receiver gave before.
//!
//! Each event runs in its own task, so that a panic is caught, logged and counted like an
//! error; the lane goes on with its next event. A journaled delivery is marked handled once its
//! handler has finished, whatever the outcome.

use super::health::StateChange;
use super::route::Routes;
use super::shared::Shared;
use super::stats::bump;
use crate::events::Event;
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};

/// What the dispatcher is given.
pub(crate) enum Item {
    /// A journaled delivery, by its sequence number; `None` for one not journaled.
    Delivery(Option<u64>, serde_json::Value),
    /// A change of the device's state.
    State(StateChange),
}

/// What a lane runs: an event or a state change, classified.
pub(crate) enum Input {
    Event(Event),
    State(StateChange),
}

struct Work {
    seq: Option<u64>,
    input: Input,
}

/// The lane of the device itself.
const DEVICE_LANE: &str = "device";

/// The conversation an input belongs to.
fn lane(input: &Input) -> String {
    match input {
        Input::Event(event) => conversation(event),
        Input::State(_) => DEVICE_LANE.to_owned(),
    }
}

/// The conversation of an event: its chat, the contact it changes, or the device itself.
pub(crate) fn conversation(event: &Event) -> String {
    match event {
        Event::ContactChanged(c) => c.user_name().map(|u| format!("contact:{u}")),
        Event::ContactDeleted(c) => c.user_name().map(|u| format!("contact:{u}")),
        other => other.chat_id().map(|c| format!("chat:{c}")),
    }
    .unwrap_or_else(|| DEVICE_LANE.to_owned())
}

/// A running dispatcher: its input, and how to stop it.
pub(crate) struct Dispatcher {
    pub(crate) tx: mpsc::UnboundedSender<Item>,
    close: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Dispatcher {
    /// Starts a dispatcher handing events to `routes`, at most `max_lanes` lanes at once.
    pub(crate) fn start(shared: Arc<Shared>, routes: Arc<Routes>, max_lanes: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (close, closed) = oneshot::channel();
        let task = tokio::spawn(run(rx, closed, shared, routes, max_lanes.max(1)));
        Dispatcher {
            tx,
            close: Some(close),
            task,
        }
    }

    /// Takes no more input, finishes what was given, and waits for the last handler, for at
    /// most `limit`. Returns whether everything finished; what did not stays journaled, for the
    /// next start.
    pub(crate) async fn finish(mut self, limit: std::time::Duration) -> bool {
        if let Some(close) = self.close.take() {
            let _ = close.send(());
        }
        match tokio::time::timeout(limit, &mut self.task).await {
            Ok(_) => true,
            Err(_) => {
                self.task.abort();
                false
            }
        }
    }
}

async fn run(
    mut rx: mpsc::UnboundedReceiver<Item>,
    mut closed: oneshot::Receiver<()>,
    shared: Arc<Shared>,
    routes: Arc<Routes>,
    max_lanes: usize,
) {
    let mut lanes: HashMap<String, VecDeque<Work>> = HashMap::new();
    // Lanes with work, not running, waiting for a slot, in the order they became ready.
    let mut ready: VecDeque<String> = VecDeque::new();
    let mut running: HashSet<String> = HashSet::new();
    let mut tasks: JoinSet<(String, Option<u64>)> = JoinSet::new();
    // Marks of deliveries handled, in the order the handlers finished: a chat's in its order.
    let (marks, marked) = mpsc::unbounded_channel();
    let marker = tokio::spawn(mark_in_order(Arc::clone(&shared), marked));
    let mut open = true;
    let mut closing = false;
    loop {
        while running.len() < max_lanes {
            let Some(key) = ready.pop_front() else {
                break;
            };
            let Some(work) = lanes.get_mut(&key).and_then(VecDeque::pop_front) else {
                continue;
            };
            running.insert(key.clone());
            let (shared, routes) = (Arc::clone(&shared), Arc::clone(&routes));
            tasks.spawn(async move {
                let seq = work.seq;
                if !seq.is_none_or(|seq| shared.may_handle(seq)) {
                    // Its partition's lease may have passed to another worker, which handles
                    // it: it is neither run nor marked here.
                    shared.stats.waiting.fetch_sub(1, Ordering::Relaxed);
                    return (key, None);
                }
                run_one(shared, routes, work).await;
                (key, seq)
            });
        }
        if !open && running.is_empty() && ready.is_empty() {
            drop(marks);
            let _ = marker.await;
            return;
        }
        tokio::select! {
            item = rx.recv(), if open => {
                let Some(item) = item else {
                    open = false;
                    continue;
                };
                let work = classify(&shared, item);
                let key = lane(&work.input);
                let queue = lanes.entry(key.clone()).or_default();
                queue.push_back(work);
                if queue.len() == 1 && !running.contains(&key) {
                    ready.push_back(key);
                }
            }
            Some(done) = tasks.join_next() => {
                // A lane's task returns its key; it cannot panic, its handler runs apart.
                let Ok((key, seq)) = done else { continue };
                if let Some(seq) = seq {
                    let _ = marks.send(seq);
                }
                running.remove(&key);
                if lanes.get(&key).is_some_and(|q| !q.is_empty()) {
                    ready.push_back(key);
                } else {
                    lanes.remove(&key);
                }
            }
            _ = &mut closed, if !closing => {
                // What was sent before the close is still handed on; nothing after it.
                closing = true;
                rx.close();
            }
        }
    }
}

/// Classifies a delivery, and notes an offline notice at once: the device must refuse sends
/// before the notice's turn in its lane comes.
fn classify(shared: &Shared, item: Item) -> Work {
    match item {
        Item::Delivery(seq, value) => {
            let event = Event::from_value(value);
            if matches!(event, Event::Offline(_)) {
                shared.went_offline("Offline callback");
            }
            Work {
                seq,
                input: Input::Event(event),
            }
        }
        Item::State(change) => Work {
            seq: None,
            input: Input::State(change),
        },
    }
}

/// Runs one input's handler in a task of its own, and counts the outcome.
async fn run_one(shared: Arc<Shared>, routes: Arc<Routes>, work: Work) {
    let seq = work.seq;
    let handler = AbortOnDrop(tokio::spawn({
        let shared = Arc::clone(&shared);
        async move { routes.handle(shared, seq, work.input).await }
    }));
    let stats = &shared.stats;
    let outcome = match shared.handler_timeout {
        Some(limit) => match tokio::time::timeout(limit, handler).await {
            Ok(outcome) => outcome,
            Err(_) => {
                // Dropping the handle aborted the handler.
                bump(&stats.handler_errors);
                tracing::warn!(
                    limit_s = limit.as_secs_f64(),
                    "gewe bot: a handler ran past its time limit and was stopped"
                );
                return;
            }
        },
        None => handler.await,
    };
    match outcome {
        Ok(Ok(true)) => bump(&stats.handled),
        Ok(Ok(false)) => bump(&stats.unrouted),
        Ok(Err(error)) => {
            bump(&stats.handler_errors);
            tracing::warn!(%error, "gewe bot: a handler returned an error");
        }
        Err(error) => {
            bump(&stats.handler_panics);
            tracing::error!(%error, "gewe bot: a handler panicked");
        }
    }
}

/// Marks deliveries handled, asking the store for each mark as its seq arrives, without
/// waiting for the earlier ones to finish: the store makes marks take effect in the order they
/// were asked for ([`Store::mark_handled`](super::store::Store::mark_handled)), so a chat's marks
/// commit in its order, and a crash can never run an earlier delivery again after a later one.
/// Waiting for each commit before asking for the next would hold a busy chat to one commit per
/// event.
async fn mark_in_order(shared: Arc<Shared>, mut seqs: mpsc::UnboundedReceiver<u64>) {
    let store = Arc::clone(&shared.store);
    let mut under_way = FuturesUnordered::new();
    let mut open = true;
    while open || !under_way.is_empty() {
        tokio::select! {
            seq = seqs.recv(), if open => match seq {
                Some(seq) => {
                    // Asked here, in arrival order; awaited with the others.
                    let mark = store.mark_handled(seq);
                    under_way.push(async move { (seq, mark.await) });
                }
                None => open = false,
            },
            Some((seq, result)) = under_way.next(), if !under_way.is_empty() => {
                if let Err(error) = result {
                    // It runs again on the next start; its sends are recorded, so none goes
                    // out twice.
                    tracing::error!(%error, seq, "gewe bot: cannot mark a delivery handled");
                }
                shared.stats.waiting.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

/// A task that is aborted when its handle is dropped: a handler cut off by the shutdown's time
/// limit stops with it.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}
