//! `Pacer` with short real gaps: one send at a time per appId, call order kept, gaps and the cap
//! respected (measured), and appIds independent.

use gewe::mock::MockServer;
use gewe::pacing::{Pacer, PacingConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);

/// What each send saw: its label, when it started and ended, and the most sends in flight.
#[derive(Default)]
struct Probe {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    log: Mutex<Vec<(String, Instant, Instant)>>,
}

impl Probe {
    /// A send that takes `busy`.
    fn job(
        self: &Arc<Self>,
        label: &str,
        busy: Duration,
    ) -> impl std::future::Future<Output = String> {
        let probe = Arc::clone(self);
        let label = label.to_owned();
        async move {
            let now = probe.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            probe.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let start = Instant::now();
            tokio::time::sleep(busy).await;
            let end = Instant::now();
            probe.in_flight.fetch_sub(1, Ordering::SeqCst);
            probe
                .log
                .lock()
                .expect("lock")
                .push((label.clone(), start, end));
            label
        }
    }

    fn log(&self) -> Vec<(String, Instant, Instant)> {
        self.log.lock().expect("lock").clone()
    }

    fn labels(&self) -> Vec<String> {
        self.log().into_iter().map(|(l, _, _)| l).collect()
    }
}

/// The idle time before each send after the first: its start minus the previous end.
fn gaps(log: &[(String, Instant, Instant)]) -> Vec<Duration> {
    log.windows(2)
        .map(|w| w[1].1.duration_since(w[0].2))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_at_a_time_in_call_order_with_the_message_gap() {
    let pacer = Pacer::new(PacingConfig::serial_only().message_gap(40 * MS));
    let probe = Arc::new(Probe::default());
    // Futures made in order 0..6, spawned in reverse: the call order still wins.
    let futures: Vec<_> = (0..6)
        .map(|i| pacer.send("wx_a", "wxid_u", probe.job(&i.to_string(), 10 * MS)))
        .collect();
    let handles: Vec<_> = futures.into_iter().rev().map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for h in handles {
        outputs.push(h.await.expect("joined"));
    }
    outputs.reverse();

    assert_eq!(outputs, ["0", "1", "2", "3", "4", "5"]);
    assert_eq!(probe.labels(), ["0", "1", "2", "3", "4", "5"]);
    assert_eq!(probe.max_in_flight.load(Ordering::SeqCst), 1);
    for gap in gaps(&probe.log()) {
        assert!(gap >= 40 * MS, "gap {gap:?}");
    }
}

#[tokio::test]
async fn switching_recipients_waits_the_user_and_group_gaps() {
    let config = PacingConfig::serial_only()
        .user_gap(30 * MS)
        .group_gap(60 * MS..=90 * MS);
    let pacer = Pacer::new(config);
    let probe = Arc::new(Probe::default());
    let to = [
        "wxid_a",
        "wxid_a",
        "wxid_b",
        "1@chatroom",
        "1@chatroom",
        "2@chatroom",
        "wxid_a",
    ];
    let sends: Vec<_> = to
        .iter()
        .map(|t| pacer.send("wx_a", t, probe.job(t, 2 * MS)))
        .collect();
    for s in sends {
        s.await;
    }
    let g = gaps(&probe.log());
    assert_eq!(probe.labels(), to);
    // Same user, no message gap: straight on.
    assert!(g[0] < 30 * MS, "{g:?}");
    // To another user.
    assert!(g[1] >= 30 * MS, "{g:?}");
    // To a group: drawn from 60..=90 ms (plus scheduling slack).
    assert!(g[2] >= 60 * MS && g[2] < 150 * MS, "{g:?}");
    // The same group again: no switch.
    assert!(g[3] < 60 * MS, "{g:?}");
    // To another group.
    assert!(g[4] >= 60 * MS, "{g:?}");
    // Back to a user.
    assert!(g[5] >= 30 * MS, "{g:?}");
}

#[tokio::test]
async fn the_per_window_cap_holds() {
    let config = PacingConfig::serial_only()
        .per_minute(Some(2))
        .window(120 * MS);
    let pacer = Pacer::new(config);
    let probe = Arc::new(Probe::default());
    let sends: Vec<_> = (0..5)
        .map(|i| pacer.send("wx_a", "wxid_u", probe.job(&i.to_string(), MS)))
        .collect();
    for s in sends {
        s.await;
    }
    let starts: Vec<Instant> = probe.log().into_iter().map(|(_, s, _)| s).collect();
    // Any 3 consecutive starts span at least the window.
    for w in starts.windows(3) {
        assert!(
            w[2].duration_since(w[0]) >= 120 * MS,
            "{:?}",
            w[2].duration_since(w[0])
        );
    }
    // The first two go at once.
    assert!(starts[1].duration_since(starts[0]) < 60 * MS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn app_ids_do_not_block_each_other() {
    let pacer = Pacer::new(PacingConfig::serial_only().message_gap(200 * MS));
    let probe = Arc::new(Probe::default());
    let t0 = Instant::now();
    let a1 = tokio::spawn(pacer.send("wx_a", "wxid_u", probe.job("a1", 100 * MS)));
    let a2 = tokio::spawn(pacer.send("wx_a", "wxid_u", probe.job("a2", MS)));
    let b1 = tokio::spawn(pacer.send("wx_b", "wxid_u", probe.job("b1", 100 * MS)));
    for h in [a1, a2, b1] {
        h.await.expect("joined");
    }
    let log = probe.log();
    let start = |l: &str| {
        log.iter()
            .find(|e| e.0 == l)
            .map(|e| e.1.duration_since(t0))
            .expect("ran")
    };
    // b1 runs alongside a1, not after a1 + gap.
    assert!(start("b1") < 50 * MS, "b1 started at {:?}", start("b1"));
    assert!(start("a2") >= 300 * MS, "a2 started at {:?}", start("a2"));
    assert_eq!(probe.max_in_flight.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_dropped_send_gives_up_its_place() {
    let pacer = Pacer::new(PacingConfig::serial_only());
    let probe = Arc::new(Probe::default());
    let first = tokio::spawn(pacer.send("wx_a", "wxid_u", probe.job("first", 20 * MS)));
    let dropped = pacer.send("wx_a", "wxid_u", probe.job("dropped", MS));
    let last = pacer.send("wx_a", "wxid_u", probe.job("last", MS));
    drop(dropped);
    tokio::time::timeout(Duration::from_secs(2), last)
        .await
        .expect("the queue moved on");
    first.await.expect("joined");
    assert_eq!(probe.labels(), ["first", "last"]);

    // A send cancelled while running releases the queue too.
    let slow = pacer.send(
        "wx_a",
        "wxid_u",
        probe.job("cancelled", Duration::from_secs(10)),
    );
    let _ = tokio::time::timeout(20 * MS, slow).await;
    tokio::time::timeout(
        Duration::from_secs(2),
        pacer.send("wx_a", "wxid_u", async {}),
    )
    .await
    .expect("not blocked by the cancelled send");
}

#[tokio::test]
async fn post_text_goes_through_the_queue() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let pacer = Pacer::new(PacingConfig::serial_only().message_gap(30 * MS));
    let request = |to: &str| gewe::types::MessagePostTextRequest {
        app_id: "wx_a".into(),
        to_wxid: to.into(),
        content: "hi".into(),
        ats: None,
    };
    let t0 = Instant::now();
    let one = pacer.post_text(&client, request("wxid_1"));
    let two = pacer.post_text(&client, request("wxid_2"));
    let (one, two) = tokio::join!(two, one);
    one.expect("sent");
    two.expect("sent");
    assert!(t0.elapsed() >= 30 * MS);
    let to: Vec<_> = mock
        .received_for("/message/postText")
        .into_iter()
        .map(|r| r.body["toWxid"].clone())
        .collect();
    assert_eq!(to, ["wxid_1", "wxid_2"]);
}
