//! An opt-in outbound queue that paces sends per `appId`, as GeWe's risk control asks.
//!
//! GeWe's developer guide ([`send_rule`]): about [`MESSAGES_PER_MINUTE`] messages a minute,
//! **never concurrently** (wait for one send to finish before starting the next), about
//! [`USER_GAP`] when switching between users and a random [`GROUP_GAP`] between groups.
//! Breaking these rules makes calls fail with `ret 500` or gets the account flagged. A [`Pacer`]
//! enforces them per device (`appId`):
//!
//! - sends for one `appId` run **one at a time, in the order [`Pacer::send`] was called**
//!   (not the order the returned futures are first polled), so they may be spawned freely;
//! - before each send it waits, counted from the end of the previous send of that `appId`:
//!   [`message_gap`](PacingConfig::message_gap) always; when the recipient changes, at least
//!   [`user_gap`](PacingConfig::user_gap) for a user, or a random duration in
//!   [`group_gap`](PacingConfig::group_gap) for a group (a wxid ending in `@chatroom`);
//! - at most [`per_minute`](PacingConfig::per_minute) sends start in any
//!   [`window`](PacingConfig::window) (60 s by default);
//! - different `appId`s never wait for each other.
//!
//! Pacing is opt-in: the generated client methods do not go through a pacer. Every send that
//! should be paced must go through the same [`Pacer`] (it is cheap to clone; clones share the
//! queues).
//!
//! ```no_run
//! # async fn run(client: gewe::Client) -> gewe::Result<()> {
//! use gewe::pacing::{Pacer, PacingConfig};
//!
//! let pacer = Pacer::new(PacingConfig::default());
//! let device = client.device("wx_app");
//! // Any call is paced the same way: it is sent when its turn comes.
//! for to in ["wxid_a", "wxid_b", "123456@chatroom"] {
//!     let hello = device.message().post_text(to, "hello");
//!     pacer.send(device.app_id(), to, hello).await?;
//! }
//! // A text built as data goes through the same queue.
//! let request = gewe::types::MessagePostTextRequest {
//!     app_id: "wx_app".into(),
//!     to_wxid: "wxid_a".into(),
//!     content: "again".into(),
//!     ats: None,
//! };
//! pacer.post_text(&client, request).await?;
//! # Ok(()) }
//! ```

use crate::lock::lock;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

mod guide;

pub use crate::chat::is_group;
pub use guide::{
    send_rule, DOWNLOAD_GAP, GROUP_GAP, MESSAGES_PER_MINUTE, MESSAGE_GAP, MOMENTS_GAP,
    SEARCHES_PER_DAY, USER_GAP,
};

/// The gaps and the cap a [`Pacer`] keeps. [`Default`] follows GeWe's guide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacingConfig {
    message_gap: Duration,
    user_gap: Duration,
    group_gap: RangeInclusive<Duration>,
    per_minute: Option<u32>,
    window: Duration,
}

impl Default for PacingConfig {
    /// GeWe's guide: [`MESSAGE_GAP`] between any two sends, [`USER_GAP`] when switching to
    /// another user, a random [`GROUP_GAP`] when switching to a group, at most
    /// [`MESSAGES_PER_MINUTE`] sends a minute.
    fn default() -> Self {
        PacingConfig {
            message_gap: MESSAGE_GAP,
            user_gap: USER_GAP,
            group_gap: GROUP_GAP,
            per_minute: Some(MESSAGES_PER_MINUTE),
            window: Duration::from_secs(60),
        }
    }
}

impl PacingConfig {
    /// No gaps and no cap: sends of one `appId` are only serialized and kept in order. Set the
    /// gaps wanted on top of it.
    pub fn serial_only() -> Self {
        PacingConfig {
            message_gap: Duration::ZERO,
            user_gap: Duration::ZERO,
            group_gap: Duration::ZERO..=Duration::ZERO,
            per_minute: None,
            window: Duration::from_secs(60),
        }
    }

    /// The least time between the end of one send and the start of the next, whoever the
    /// recipients are (default [`MESSAGE_GAP`]).
    pub fn message_gap(mut self, gap: Duration) -> Self {
        self.message_gap = gap;
        self
    }

    /// The least gap before a send to a user when the previous send went to someone else
    /// (default [`USER_GAP`]). The larger of this and [`message_gap`](Self::message_gap) applies.
    pub fn user_gap(mut self, gap: Duration) -> Self {
        self.user_gap = gap;
        self
    }

    /// The range the gap before a send to a group is drawn from (uniformly) when the previous
    /// send went to someone else (default [`GROUP_GAP`]). A reversed range is read as its ends
    /// swapped.
    /// The larger of the drawn gap and [`message_gap`](Self::message_gap) applies.
    pub fn group_gap(mut self, range: RangeInclusive<Duration>) -> Self {
        let (a, b) = range.into_inner();
        self.group_gap = a.min(b)..=a.max(b);
        self
    }

    /// At most `cap` sends start in any [`window`](Self::window) (default
    /// [`MESSAGES_PER_MINUTE`]); `None` for no
    /// cap. `Some(0)` is read as `Some(1)`, since a cap of zero would block forever.
    pub fn per_minute(mut self, cap: Option<u32>) -> Self {
        self.per_minute = cap.map(|c| c.max(1));
        self
    }

    /// The sliding window [`per_minute`](Self::per_minute) counts in (default 60 s; shorter
    /// only for tests).
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The gap before a send to `to_wxid` when the previous send went to `previous`: the
    /// message gap, or, when the recipient changes, the larger of it and the
    /// [`switch_gap`](Self::switch_gap).
    fn gap_before(&self, previous: &str, to_wxid: &str) -> Duration {
        if previous == to_wxid {
            self.message_gap
        } else {
            self.message_gap.max(self.switch_gap(to_wxid))
        }
    }

    /// The gap wanted when the recipient changes to `to_wxid`: the user gap, or one drawn from
    /// the group gap. Also what the send turn of a Redis deployment asks, so that the gaps are
    /// decided in one place.
    pub(crate) fn switch_gap(&self, to_wxid: &str) -> Duration {
        if is_group(to_wxid) {
            random_in(&self.group_gap)
        } else {
            self.user_gap
        }
    }

    /// The message gap: between any two sends.
    #[cfg(feature = "redis")]
    pub(crate) fn message_gap_value(&self) -> Duration {
        self.message_gap
    }

    /// The cap, when any, and the window it counts in.
    #[cfg(feature = "redis")]
    pub(crate) fn cap(&self) -> (Option<u32>, Duration) {
        (self.per_minute, self.window)
    }
}

/// Paces sends per `appId`: one at a time, in call order, with the gaps of its
/// [`PacingConfig`]. See the [module documentation](self).
///
/// Cheap to clone; clones share the queues. The queue of an `appId` is kept for the life of the
/// pacer (a few hundred bytes each).
#[derive(Clone)]
pub struct Pacer {
    inner: Arc<Shared>,
}

struct Shared {
    config: PacingConfig,
    lanes: Mutex<HashMap<String, Arc<Lane>>>,
}

impl fmt::Debug for Pacer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pacer")
            .field("config", &self.inner.config)
            .field("app_ids", &lock(&self.inner.lanes).len())
            .finish()
    }
}

/// The queue of one `appId`.
struct Lane {
    state: Mutex<LaneState>,
    /// Woken whenever `serving` moves on.
    turn: Notify,
}

#[derive(Default)]
struct LaneState {
    /// The ticket the next `send` call gets.
    next_ticket: u64,
    /// The ticket whose turn it is.
    serving: u64,
    /// Tickets whose futures were dropped before their turn; skipped when reached.
    abandoned: BTreeSet<u64>,
    /// The previous send: when it ended and to whom.
    last: Option<(Instant, String)>,
    /// When the sends of the current window started.
    starts: VecDeque<Instant>,
}

impl LaneState {
    fn advance(&mut self) {
        self.serving += 1;
        while self.abandoned.remove(&self.serving) {
            self.serving += 1;
        }
    }
}

impl Pacer {
    /// A pacer with `config`.
    pub fn new(config: PacingConfig) -> Self {
        Pacer {
            inner: Arc::new(Shared {
                config,
                lanes: Mutex::default(),
            }),
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &PacingConfig {
        &self.inner.config
    }

    /// Runs `send` (one send to `to_wxid` from device `app_id`: a [`Call`](crate::Call) or any
    /// future) when its turn comes, and returns its output.
    ///
    /// The place in the queue is taken when `send` is *called*, so sends of one `appId` run in
    /// call order even when the returned futures are spawned or polled out of order. `send` is
    /// not polled before its turn. Dropping the returned future gives up its place (or, if the
    /// send is running, stops it and lets the next one go after the usual gap).
    ///
    /// The returned future is `Send` (or `'static`) when `send` is. Needs a tokio runtime with
    /// the timer enabled.
    pub fn send<F>(&self, app_id: &str, to_wxid: &str, send: F) -> impl Future<Output = F::Output>
    where
        F: IntoFuture,
    {
        let send = send.into_future();
        let lane = self.lane(app_id);
        let ticket = {
            let mut state = lock(&lane.state);
            let t = state.next_ticket;
            state.next_ticket += 1;
            t
        };
        let shared = Arc::clone(&self.inner);
        let to = to_wxid.to_owned();
        let mut turn = Turn {
            lane,
            ticket,
            started: false,
            finished: false,
            to: to.clone(),
        };
        async move {
            turn.wait().await;
            let ready_at = {
                let state = lock(&turn.lane.state);
                shared.ready_at(&state, &to)
            };
            tokio::time::sleep_until(ready_at).await;
            {
                let mut state = lock(&turn.lane.state);
                let now = Instant::now();
                let window = shared.config.window;
                while state
                    .starts
                    .front()
                    .is_some_and(|s| now.saturating_duration_since(*s) >= window)
                {
                    state.starts.pop_front();
                }
                state.starts.push_back(now);
                turn.started = true;
            }
            let output = send.await;
            turn.finish();
            output
        }
    }

    /// Sends a text (`message_post_text`) through the queue of `request.app_id`, to
    /// `request.to_wxid`.
    pub fn post_text(
        &self,
        client: &crate::Client,
        request: crate::types::MessagePostTextRequest,
    ) -> impl Future<Output = crate::Result<crate::types::MessagePostTextData>> + Send + 'static
    {
        let client = client.clone();
        let app_id = request.app_id.clone();
        let to = request.to_wxid.clone();
        self.send(&app_id, &to, async move {
            client.message_post_text(&request).await
        })
    }

    fn lane(&self, app_id: &str) -> Arc<Lane> {
        let mut lanes = lock(&self.inner.lanes);
        if let Some(lane) = lanes.get(app_id) {
            return Arc::clone(lane);
        }
        let lane = Arc::new(Lane {
            state: Mutex::default(),
            turn: Notify::new(),
        });
        lanes.insert(app_id.to_owned(), Arc::clone(&lane));
        lane
    }
}

impl Shared {
    /// When the next send of a lane, to `to`, may start.
    fn ready_at(&self, state: &LaneState, to: &str) -> Instant {
        let c = &self.config;
        let mut ready = Instant::now();
        if let Some((ended, previous)) = &state.last {
            ready = ready.max(later(*ended, c.gap_before(previous, to)));
        }
        if let Some(cap) = c.per_minute {
            // The starts older than the window (at `ready`) no longer count; with `cap` or more
            // left, wait until enough of them leave it.
            let cap = cap as usize;
            let mut in_window = state
                .starts
                .iter()
                .filter(|s| ready.saturating_duration_since(**s) < c.window);
            let count = in_window.clone().count();
            if count >= cap {
                if let Some(blocking) = in_window.nth(count - cap) {
                    ready = ready.max(later(*blocking, c.window));
                }
            }
        }
        ready
    }
}

/// A duration drawn uniformly from `range`.
fn random_in(range: &RangeInclusive<Duration>) -> Duration {
    let (lo, hi) = (*range.start(), *range.end());
    let span = hi.saturating_sub(lo).as_nanos();
    lo + Duration::from_nanos(u64::try_from(fastrand::u128(0..=span)).unwrap_or(u64::MAX))
}

/// `at + d`, saturating (a year at most) instead of panicking on an absurd configured gap.
fn later(at: Instant, d: Duration) -> Instant {
    at.checked_add(d.min(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(at)
}

/// A place in a lane's queue; gives it up (or ends the running send) when dropped.
struct Turn {
    lane: Arc<Lane>,
    ticket: u64,
    started: bool,
    finished: bool,
    to: String,
}

impl Turn {
    async fn wait(&self) {
        loop {
            let notified = self.lane.turn.notified();
            tokio::pin!(notified);
            // Registered before the check, so a wake-up between the check and the await is kept.
            notified.as_mut().enable();
            let mine = lock(&self.lane.state).serving == self.ticket;
            if mine {
                return;
            }
            notified.await;
        }
    }

    fn finish(&mut self) {
        self.finished = true;
        {
            let mut state = lock(&self.lane.state);
            if state.serving == self.ticket {
                if self.started {
                    state.last = Some((Instant::now(), std::mem::take(&mut self.to)));
                }
                state.advance();
            } else {
                state.abandoned.insert(self.ticket);
            }
        }
        self.lane.turn.notify_waiters();
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if !self.finished {
            self.finish();
        }
    }
}
