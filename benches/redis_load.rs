//! The deployment on Redis under load from `wrk`, beside the single-process bot, in one run:
//! deliveries per second from the webhook to the handlers, their ratio, and the p99 time from
//! a delivery to its handler's start.
//!
//! - **Deployment**: a real `redis-server` on a free loopback port (`appendonly yes`,
//!   `appendfsync always`), one ingress (`Role::Ingress`) and two workers (`Role::Worker`),
//!   three `Bot`s of one deployment in this process.
//! - **Single process**: the bot on its file store (redb), as `bot_load`'s durable receiver.
//!
//! Both share one tokio runtime (`RUNTIME_THREADS`, default 2, the machine's cores) and do
//! nothing in their handlers but note the time. wrk drives them in turn: deployment, single,
//! deployment, … for `ROUNDS` rounds. Each request is a text with a distinct `NewMsgId`, from
//! one of `CHATS` conversations in turn.
//!
//! **Delivery to handler start.** wrk's Lua script reads the wall clock (`clock_gettime`,
//! `CLOCK_REALTIME`, through LuaJIT's FFI) in `request()`, which wrk calls just before it
//! writes the request, and sends it as the text (`t=<µs since the epoch>`). The handler reads
//! the wall clock as it starts and keeps the difference. It covers the request on the wire,
//! the webhook, the journal (Redis, or the file), the queue to the worker, the wait behind
//! earlier deliveries, and the dispatch. Everything is on one machine, so both clocks are one.
//!
//! **Throughput.** wrk's requests/s, all answered 200 (the rate GeWe would see acknowledged);
//! and the handled rate: deliveries handled over the time from wrk's start to the last handler
//! start, after the backlog drains (the bench waits for it).
//!
//! **Correctness.** The bench fails on any non-2xx answer or socket error, on a delivery
//! handled twice, or unless every delivery the webhook accepted is handled, once: as many
//! distinct ids as accepted, at least as many as wrk counted answered 200, and at most one
//! per connection more (requests in flight when wrk stops are handled but not counted by wrk).
//!
//! Needs `wrk` and `redis-server` (Debian: `apt-get install wrk redis-server`). Run:
//! `cargo bench --features redis --bench redis_load`. Settings (environment): `WRK_DURATION`
//! (default `10s`), `WRK_CONNECTIONS` (64), `WRK_THREADS` (1), `ROUNDS` (3), `CHATS` (1000),
//! `RUNTIME_THREADS` (2).

#[path = "../tests/support/redis.rs"]
mod redis;
#[path = "support/wrk.rs"]
mod wrk;

use gewe::bot::{Bot, Context, Role, RunningBot, Settings, TextMessage};
use gewe::mock::MockServer;
use redis::RedisServer;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The device of wrk's script.
const APP_ID: &str = "wx_load";

/// The workers' lease and claim time: short, so that the two workers split the partitions
/// within seconds of starting, and longer than the handler timeout, as the workers require.
const LEASE: Duration = Duration::from_secs(10);
const HANDLER_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the handlers may take to drain the backlog after wrk stops.
const DRAIN_WITHIN: Duration = Duration::from_secs(300);

/// wrk's script: a distinct `NewMsgId` per request, `CHATS` conversations in turn, and the
/// time of sending, in µs of the wall clock, as the text.
const SCRIPT: &str = r#"
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } timespec;
int clock_gettime(int, timespec*);
]]
local ts = ffi.new("timespec")
local chats = tonumber(os.getenv("CHATS") or "1000")
local counter = 0
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function request()
  counter = counter + 1
  local id = string.format("%s%02d%010d", os.getenv("ROUND_PREFIX") or "71", tid, counter)
  ffi.C.clock_gettime(0, ts)
  local us = tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
  local body = '{"TypeName":"AddMsg","Appid":"wx_load","Wxid":"wxid_bot","Data":{"MsgId":'
    .. counter .. ',"FromUserName":{"string":"wxid_friend_' .. (counter % chats) .. '"},"ToUserName":{"string":"wxid_bot"},'
    .. '"MsgType":1,"Content":{"string":"t=' .. string.format("%.0f", us) .. '"},"Status":3,'
    .. '"CreateTime":1705043418,"MsgSource":"<msgsource></msgsource>","NewMsgId":' .. id .. '}}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
"#;

/// Microseconds since the epoch, of the wall clock (as wrk's script reads it).
fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// One handler start: the delivery's `NewMsgId`, when wrk sent it, when the handler started.
#[derive(Clone, Copy)]
struct Start {
    id: u64,
    sent_us: u64,
    started_us: u64,
}

/// What the handlers of one bot (or of the two workers) saw.
#[derive(Clone, Default)]
struct Starts(Arc<Mutex<Vec<Start>>>);

impl Starts {
    fn record(&self, msg: &TextMessage, started_us: u64) {
        let id = msg.new_msg_id().and_then(|id| id.as_u64()).unwrap_or(0);
        let sent_us = msg
            .body()
            .strip_prefix("t=")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        self.0.lock().expect("starts").push(Start {
            id,
            sent_us,
            started_us,
        });
    }

    fn take(&self) -> Vec<Start> {
        std::mem::take(&mut *self.0.lock().expect("starts"))
    }

    /// How many handler starts so far (duplicates included: they are looked for afterwards).
    fn count(&self) -> usize {
        self.0.lock().expect("starts").len()
    }
}

/// A bot whose text handler only notes when it started.
fn timed(settings: Settings, starts: &Starts) -> Bot {
    let starts = starts.clone();
    Bot::new(settings).on_text(move |_cx: Context, msg: TextMessage| {
        let starts = starts.clone();
        async move {
            starts.record(&msg, now_us());
            Ok(())
        }
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The `q` quantile of sorted `v` (nearest rank).
fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = (q * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// The webhook URL of a bot, from its address and its callback URL's path.
fn webhook_url(bot: &RunningBot) -> String {
    let url = bot.callback_url();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find('/').map_or("/", |at| &rest[at..]);
    format!(
        "http://{}{path}",
        bot.local_addr().expect("the webhook listens")
    )
}

/// CPU time so far, in seconds: this process's (the bots under test) and Redis's, and the
/// commands Redis has processed; to see what the 2 cores went to.
#[derive(Clone, Copy)]
struct Usage {
    at: Instant,
    process_s: f64,
    redis_s: f64,
    redis_commands: u64,
}

impl Usage {
    fn now(server: &RedisServer) -> Usage {
        // utime and stime, fields 14 and 15 of /proc/self/stat, in ticks of 1/100 s.
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        let process_s = ticks(11)
            .zip(ticks(12))
            .map_or(f64::NAN, |(u, s)| (u + s) / 100.0);
        let info = format!(
            "{}\n{}",
            server.command(&["INFO", "cpu"]),
            server.command(&["INFO", "stats"])
        );
        let field = |name: &str| -> Option<f64> {
            info.split(['\r', '\n', ' '])
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':')?.parse().ok())
        };
        Usage {
            at: Instant::now(),
            process_s,
            redis_s: field("used_cpu_user").unwrap_or(f64::NAN)
                + field("used_cpu_sys").unwrap_or(f64::NAN),
            redis_commands: field("total_commands_processed").map_or(0, |c| c as u64),
        }
    }
}

/// The 1-minute load average, to tell a quiet machine from a shared one.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// What one measurement gave.
struct Measured {
    answered_per_sec: f64,
    answer_p99_ms: f64,
    answered: u64,
    handled: usize,
    handled_per_sec: f64,
    /// From wrk's exit to the last handler start; below 0 when nothing was left to drain.
    drained_ms: f64,
    start_p50_ms: f64,
    start_p99_ms: f64,
    non_2xx: u64,
    errors: u64,
    /// CPU use over the round, in cores: this process's and Redis's.
    process_cores: f64,
    redis_cores: f64,
    /// Redis commands per delivery handled.
    commands_each: f64,
    /// The load average before and after.
    load: String,
}

/// The system under test: where wrk posts, who handles, and what its webhook accepted so far.
struct Target<'a> {
    name: &'static str,
    url: String,
    starts: Starts,
    accepted: Box<dyn Fn() -> u64 + 'a>,
}

fn measure(
    target: &Target<'_>,
    server: &RedisServer,
    script: &std::path::Path,
    prefix: &str,
) -> Measured {
    let connections: u64 = wrk::env("WRK_CONNECTIONS", "64").parse().unwrap_or(64);
    let accepted_before = (target.accepted)();
    let _ = target.starts.take();
    let load_before = load_average();
    let before = Usage::now(server);
    let started_us = now_us();
    let run = wrk::try_run(&target.url, script, prefix).unwrap_or_else(|why| panic!("{why}"));
    let stopped = Instant::now();
    let stopped_us = now_us();
    // Wait for the handlers to take the backlog: every delivery the webhook accepted, those
    // of requests still in flight when wrk stopped included. Once they are all handled, wait
    // a little more, for late duplicates and late acceptances to show.
    let accepted = loop {
        let accepted = (target.accepted)() - accepted_before;
        if target.starts.count() as u64 >= accepted {
            std::thread::sleep(Duration::from_millis(200));
            if (target.accepted)() - accepted_before == accepted {
                break accepted;
            }
        }
        assert!(
            stopped.elapsed() < DRAIN_WITHIN,
            "{}: {accepted} deliveries accepted, {} handled after {DRAIN_WITHIN:?}",
            target.name,
            target.starts.count()
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    let after = Usage::now(server);
    let starts = target.starts.take();
    let ids: HashSet<u64> = starts.iter().map(|s| s.id).collect();
    let answered = run.requests - run.non_2xx;
    assert_eq!(
        ids.len(),
        starts.len(),
        "{}: a delivery was handled twice",
        target.name
    );
    assert!(
        !ids.contains(&0) && starts.iter().all(|s| s.sent_us > 0),
        "{}: a delivery without its id or its time of sending",
        target.name
    );
    assert_eq!(
        ids.len() as u64,
        accepted,
        "{}: handled other than accepted",
        target.name
    );
    assert!(
        (answered..=answered + connections).contains(&accepted),
        "{}: {accepted} accepted, {answered} answered 200 by wrk's count",
        target.name
    );
    let mut latencies: Vec<f64> = starts
        .iter()
        .map(|s| (s.started_us as f64 - s.sent_us as f64) / 1000.0)
        .collect();
    latencies.sort_by(f64::total_cmp);
    let last_us = starts
        .iter()
        .map(|s| s.started_us)
        .max()
        .unwrap_or(started_us);
    Measured {
        answered_per_sec: run.requests_per_sec,
        answer_p99_ms: run.p99_ms,
        answered,
        handled: starts.len(),
        handled_per_sec: starts.len() as f64 / ((last_us - started_us) as f64 / 1e6),
        drained_ms: (last_us as f64 - stopped_us as f64) / 1000.0,
        start_p50_ms: quantile(&latencies, 0.50),
        start_p99_ms: quantile(&latencies, 0.99),
        non_2xx: run.non_2xx,
        errors: run.errors,
        process_cores: (after.process_s - before.process_s) / (after.at - before.at).as_secs_f64(),
        redis_cores: (after.redis_s - before.redis_s) / (after.at - before.at).as_secs_f64(),
        commands_each: (after.redis_commands - before.redis_commands) as f64 / starts.len() as f64,
        load: format!("{load_before}–{}", load_average()),
    }
}

fn main() {
    let threads: usize = wrk::env("RUNTIME_THREADS", "2").parse().unwrap_or(2);
    let rounds: usize = wrk::env("ROUNDS", "3").parse().unwrap_or(3);
    let chats = wrk::env("CHATS", "1000");
    if std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("redis_load: wrk is not installed (apt-get install wrk)");
        std::process::exit(2);
    }
    let server = RedisServer::start_required("redis-load");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("gewe-redis-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let script = wrk::write_script("redis-load", SCRIPT);
    let single_starts = Starts::default();
    let deployment_starts = Starts::default();

    let (mock, single, ingress, workers) = rt.block_on(async {
        let mock = MockServer::start().await.expect("mock");
        let single = timed(
            Settings::new(mock.token())
                .base_url(mock.base_url())
                .listen("127.0.0.1:0".parse().expect("addr"))
                .store_path(dir.join("single.redb"))
                .app_id(APP_ID),
            &single_starts,
        )
        .max_waiting_deliveries(1_000_000)
        .start()
        .await
        .expect("the single-process bot starts");
        let deployed = |role: Role| {
            Settings::new(mock.token())
                .base_url(mock.base_url())
                .listen("127.0.0.1:0".parse().expect("addr"))
                .app_id(APP_ID)
                .region_id("320000")
                .redis_store(server.url(), "load")
                .lease(LEASE)
                .claim_after(LEASE)
                .role(role)
        };
        let ingress = Bot::new(deployed(Role::Ingress))
            .start()
            .await
            .expect("the ingress starts");
        let mut workers = Vec::new();
        for _ in 0..2 {
            workers.push(
                timed(deployed(Role::Worker), &deployment_starts)
                    .handler_timeout(HANDLER_TIMEOUT)
                    .start()
                    .await
                    .expect("a worker starts"),
            );
        }
        (mock, single, ingress, workers)
    });

    // Warm up until both workers handle: the second one's partitions come to it once the
    // first has seen its heartbeat and shed them.
    let warm_up = Instant::now();
    let client = rt.block_on(async { reqwest::Client::new() });
    let ingress_url = webhook_url(&ingress);
    let mut sent = 0u64;
    while workers.iter().any(|w| w.stats().handled == 0) {
        assert!(
            warm_up.elapsed() < Duration::from_secs(60),
            "the two workers did not share the partitions within 60 s: {:?}",
            workers.iter().map(RunningBot::stats).collect::<Vec<_>>()
        );
        rt.block_on(async {
            for chat in 0..64u64 {
                sent += 1;
                let body = format!(
                    r#"{{"TypeName":"AddMsg","Appid":"{APP_ID}","Wxid":"wxid_bot","Data":{{"MsgId":{sent},"NewMsgId":{},"MsgType":1,"FromUserName":{{"string":"wxid_warm_{chat}"}},"ToUserName":{{"string":"wxid_bot"}},"Content":{{"string":"t={}"}},"CreateTime":1705043418}}}}"#,
                    6_000_000_000 + sent,
                    now_us()
                );
                let status = client
                    .post(&ingress_url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16());
                assert!(matches!(status, Ok(200)), "warm-up: {status:?}");
            }
        });
        std::thread::sleep(Duration::from_millis(200));
    }
    let warmed = sent;
    while deployment_starts.count() < usize::try_from(warmed).expect("count") {
        std::thread::sleep(Duration::from_millis(10));
    }
    println!(
        "warm-up: both workers handle after {:.1} s ({warmed} deliveries)",
        warm_up.elapsed().as_secs_f64()
    );

    let targets = [
        Target {
            name: "deployment",
            url: ingress_url.clone(),
            starts: deployment_starts.clone(),
            accepted: Box::new(|| ingress.stats().accepted),
        },
        Target {
            name: "single",
            url: webhook_url(&single),
            starts: single_starts.clone(),
            accepted: Box::new(|| single.stats().accepted),
        },
    ];
    println!(
        "wrk -t{} -c{} -d{} --latency, {rounds} rounds, {chats} chats, runtime of {threads} threads",
        wrk::env("WRK_THREADS", "1"),
        wrk::env("WRK_CONNECTIONS", "64"),
        wrk::env("WRK_DURATION", "10s"),
    );
    println!(
        "round  bot          answered/s  answer p99 ms  answered  handled  handled/s  drained ms  start p50 ms  start p99 ms  non-2xx  errors  bots cpu  redis cpu  cmds each  load"
    );
    let mut all: Vec<Vec<Measured>> = vec![Vec::new(), Vec::new()];
    for round in 0..rounds {
        for (which, target) in targets.iter().enumerate() {
            let prefix = format!("8{}{which}", round + 1);
            let m = measure(target, &server, &script, &prefix);
            println!(
                "{:>5}  {:<11} {:>11.0} {:>14.2} {:>9} {:>8} {:>10.0} {:>11.1} {:>13.2} {:>13.2} {:>8} {:>7} {:>9.2} {:>10.2} {:>10.1}  {}",
                round + 1,
                target.name,
                m.answered_per_sec,
                m.answer_p99_ms,
                m.answered,
                m.handled,
                m.handled_per_sec,
                m.drained_ms,
                m.start_p50_ms,
                m.start_p99_ms,
                m.non_2xx,
                m.errors,
                m.process_cores,
                m.redis_cores,
                m.commands_each,
                m.load
            );
            all[which].push(m);
        }
    }
    let per_round = |f: fn(&Measured) -> f64| -> Vec<f64> {
        all[0]
            .iter()
            .zip(&all[1])
            .map(|(d, s)| f(d) / f(s))
            .collect()
    };
    let show = |v: &[f64], digits: usize| -> String {
        v.iter()
            .map(|x| format!("{x:.digits$}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (which, target) in targets.iter().enumerate() {
        let m = &all[which];
        println!(
            "{}: median answered/s {:.0}, handled/s {:.0}, start p99 {:.2} ms (rounds: {})",
            target.name,
            median(m.iter().map(|m| m.answered_per_sec).collect()),
            median(m.iter().map(|m| m.handled_per_sec).collect()),
            median(m.iter().map(|m| m.start_p99_ms).collect()),
            show(&m.iter().map(|m| m.start_p99_ms).collect::<Vec<_>>(), 2),
        );
    }
    let answered = per_round(|m| m.answered_per_sec);
    let handled = per_round(|m| m.handled_per_sec);
    println!(
        "deployment / single, answered/s per round: {}; median {:.3}",
        show(&answered, 3),
        median(answered.clone())
    );
    println!(
        "deployment / single, handled/s per round: {}; median {:.3}",
        show(&handled, 3),
        median(handled.clone())
    );
    println!(
        "per worker, handled: {:?}",
        workers
            .iter()
            .map(|w| w.stats().handled)
            .collect::<Vec<_>>()
    );
    drop(targets);
    let ok = all
        .iter()
        .flatten()
        .all(|m| m.non_2xx == 0 && m.errors == 0 && m.answered > 0);
    rt.block_on(async {
        for worker in workers {
            worker.shutdown().await;
        }
        ingress.shutdown().await;
        single.shutdown().await;
    });
    drop(mock);
    drop(server);
    let _ = std::fs::remove_file(&script);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        ok,
        "a round had non-2xx answers or socket errors: see the table"
    );
}
