//! Workers killed with SIGKILL, against a real `redis-server`: a worker runs as a child
//! process (this test binary again, running `child_worker`) and is killed before its reply
//! goes out, while GeWe holds the reply's answer, and after the reply but before the delivery
//! is acknowledged. Another worker takes the partitions over once the lease expires, claims the
//! deliveries, and finishes them; no reply goes out twice. Each test prints the time from the
//! kill to the delivery's reply (or to the next delivery handled): the recovery time.

#[path = "support/redis.rs"]
mod redis;
#[path = "support/bot.rs"]
mod support;

use gewe::bot::{Bot, Context, Role, RunningBot, Settings, TextMessage};
use gewe::mock::{MockReply, MockServer};
use redis::RedisServer;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// Set in the child's environment: run as a worker.
const CHILD: &str = "GEWE_WORKER_KILL_CHILD";
/// The child's handler: ms to wait before the reply, and after it.
const BEFORE: &str = "GEWE_WORKER_KILL_BEFORE_MS";
const AFTER: &str = "GEWE_WORKER_KILL_AFTER_MS";
/// A file the child's handler creates when it starts, and one when its reply is answered.
const STARTED: &str = "GEWE_WORKER_KILL_STARTED";
const REPLIED: &str = "GEWE_WORKER_KILL_REPLIED";

/// Short enough for a test, long against a handler: lease and claim time, and the handler
/// timeout under them.
const LEASE: Duration = Duration::from_millis(2000);
const HANDLER_TIMEOUT: Duration = Duration::from_millis(1500);
const PARTITIONS: u32 = 4;

/// The worker of these tests, configured from the environment as a deployment would be
/// (`GEWE_ROLE=worker`, `GEWE_STORE=redis://…`, no callback URL): it answers each text with
/// `echo: <text>`. Run only as a child of the tests below.
#[test]
#[ignore = "the worker process of the kill tests; they run it"]
fn child_worker() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let ms =
        |k: &str| Duration::from_millis(std::env::var(k).unwrap_or_default().parse().unwrap_or(0));
    let (before, after) = (ms(BEFORE), ms(AFTER));
    let started = PathBuf::from(std::env::var(STARTED).unwrap());
    let replied = PathBuf::from(std::env::var(REPLIED).unwrap());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let bot = Bot::from_env()
            .expect("the worker's settings")
            .pacing(gewe::pacing::PacingConfig::serial_only())
            .handler_timeout(HANDLER_TIMEOUT)
            .on_text(move |cx: Context, msg: TextMessage| {
                let (started, replied) = (started.clone(), replied.clone());
                async move {
                    std::fs::write(&started, msg.body()).unwrap();
                    tokio::time::sleep(before).await;
                    cx.reply(format!("echo: {}", msg.body())).await?;
                    std::fs::write(&replied, msg.body()).unwrap();
                    tokio::time::sleep(after).await;
                    Ok(())
                }
            });
        let _bot = bot.start().await.expect("the worker starts");
        std::future::pending::<()>().await;
    });
}

/// A child worker process; killed with SIGKILL when dropped.
struct WorkerProcess(Child);

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The deployment of one test: Redis, the mock as GeWe, an ingress replica in this process.
struct Deployment {
    server: RedisServer,
    mock: MockServer,
    _ingress: RunningBot,
    dir: PathBuf,
}

impl Deployment {
    async fn start(name: &str) -> Option<Deployment> {
        let server = RedisServer::start(name)?;
        let mock = MockServer::start().await.unwrap();
        let dir = scratch(name);
        let ingress = Bot::new(redis_settings(&server, &mock).role(Role::Ingress))
            .start()
            .await
            .expect("the ingress starts");
        Some(Deployment {
            server,
            mock,
            _ingress: ingress,
            dir,
        })
    }

    /// A worker process whose handler waits `before` ms before its reply and `after` ms after.
    fn spawn_worker(&self, before: u64, after: u64) -> WorkerProcess {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "child_worker",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .env(BEFORE, before.to_string())
            .env(AFTER, after.to_string())
            .env(STARTED, self.dir.join("started"))
            .env(REPLIED, self.dir.join("replied"))
            .env("GEWE_TOKEN", self.mock.token())
            .env("GEWE_BASE_URL", self.mock.base_url())
            .env("GEWE_STORE", self.server.url())
            .env("GEWE_DEPLOYMENT", "kill")
            .env("GEWE_ROLE", "worker")
            .env("GEWE_PARTITIONS", PARTITIONS.to_string())
            .env("GEWE_LEASE_SECS", LEASE.as_secs_f64().to_string())
            .env("GEWE_CLAIM_AFTER_SECS", LEASE.as_secs_f64().to_string())
            .env("GEWE_SEND_TURN_SECS", LEASE.as_secs_f64().to_string())
            .env_remove("GEWE_CALLBACK_URL")
            .env_remove("GEWE_APP_ID")
            .stdout(Stdio::null());
        WorkerProcess(command.spawn().expect("the worker process starts"))
    }

    /// A worker in this process that echoes at once: the one that takes over.
    async fn worker(&self) -> RunningBot {
        Bot::new(redis_settings(&self.server, &self.mock).role(Role::Worker))
            .pacing(gewe::pacing::PacingConfig::serial_only())
            .handler_timeout(HANDLER_TIMEOUT)
            .on_text(|cx: Context, msg: TextMessage| async move {
                cx.reply(format!("echo: {}", msg.body())).await?;
                Ok(())
            })
            .start()
            .await
            .expect("the worker starts")
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn replies(&self) -> Vec<String> {
        self.mock
            .received_for("/message/postText")
            .into_iter()
            .map(|r| r.body["content"].as_str().unwrap_or("").to_owned())
            .collect()
    }
}

fn redis_settings(server: &RedisServer, mock: &MockServer) -> Settings {
    Settings::new(mock.token())
        .base_url(mock.base_url())
        .listen("127.0.0.1:0".parse().unwrap())
        .app_id(APP_ID)
        .region_id("320000")
        .redis_store(server.url(), "kill")
        .partitions(PARTITIONS)
        .lease(LEASE)
        .claim_after(LEASE)
        .send_turn_ttl(LEASE)
}

async fn wait_for_file(path: &Path) {
    assert!(
        eventually(|| path.exists()).await,
        "{} was not written",
        path.display()
    );
}

/// Waits until the mock has `n` replies, for up to 20 s, and returns the time waited.
async fn wait_for_replies(deployment: &Deployment, n: usize) -> Duration {
    let start = Instant::now();
    while deployment.replies().len() < n && start.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(deployment.replies().len(), n, "{:?}", deployment.replies());
    start.elapsed()
}

fn text(chat: &str, body: &str, id: u64) -> Value {
    private_text(chat, body, id)
}

#[tokio::test]
async fn a_worker_killed_before_its_reply_is_replaced_and_the_reply_goes_out_once() {
    let Some(d) = Deployment::start("kill-before").await else {
        return;
    };
    let child = d.spawn_worker(30_000, 0);
    assert_eq!(
        d.mock
            .push_callback(&text("wxid_a", "A", 1001))
            .await
            .unwrap(),
        200
    );
    wait_for_file(&d.file("started")).await;
    assert!(d.replies().is_empty());
    drop(child);
    let killed = Instant::now();
    let _worker = d.worker().await;
    wait_for_replies(&d, 1).await;
    println!(
        "recovery after a kill before the reply: {:?}",
        killed.elapsed()
    );
    assert_eq!(d.replies(), ["echo: A"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(d.replies(), ["echo: A"], "a reply went out twice");
}

#[tokio::test]
async fn a_worker_killed_while_its_reply_is_under_way_never_sends_it_again() {
    let Some(d) = Deployment::start("kill-during").await else {
        return;
    };
    // GeWe holds the first reply's answer: the worker is killed mid-send.
    d.mock.enqueue(
        "/message/postText",
        MockReply::ok(Some(
            json!({"toWxid": "wxid_a", "msgId": 1, "newMsgId": 2, "createTime": 3, "type": 1}),
        ))
        .with_delay(Duration::from_secs(60)),
    );
    let child = d.spawn_worker(0, 0);
    assert_eq!(
        d.mock
            .push_callback(&text("wxid_a", "A", 2001))
            .await
            .unwrap(),
        200
    );
    wait_for_replies(&d, 1).await;
    drop(child);
    let killed = Instant::now();
    let _worker = d.worker().await;
    // The same chat's next message: handled after A's handler ran again, which must not have
    // sent A's reply a second time (its outcome is unknown).
    assert_eq!(
        d.mock
            .push_callback(&text("wxid_a", "B", 2002))
            .await
            .unwrap(),
        200
    );
    wait_for_replies(&d, 2).await;
    println!(
        "recovery after a kill during the reply: {:?}",
        killed.elapsed()
    );
    assert_eq!(d.replies(), ["echo: A", "echo: B"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        d.replies(),
        ["echo: A", "echo: B"],
        "a reply went out twice"
    );
}

#[tokio::test]
async fn a_worker_killed_after_its_reply_leaves_the_reply_recorded_and_not_repeated() {
    let Some(d) = Deployment::start("kill-after").await else {
        return;
    };
    // The handler waits after its reply: the kill comes before the acknowledgement.
    let child = d.spawn_worker(0, 30_000);
    assert_eq!(
        d.mock
            .push_callback(&text("wxid_a", "A", 3001))
            .await
            .unwrap(),
        200
    );
    wait_for_file(&d.file("replied")).await;
    drop(child);
    let killed = Instant::now();
    let worker = d.worker().await;
    assert_eq!(
        d.mock
            .push_callback(&text("wxid_a", "B", 3002))
            .await
            .unwrap(),
        200
    );
    wait_for_replies(&d, 2).await;
    println!(
        "recovery after a kill after the reply: {:?}",
        killed.elapsed()
    );
    assert_eq!(d.replies(), ["echo: A", "echo: B"]);
    // A's handler ran again on the new worker: its reply came from the record.
    assert!(
        eventually(|| worker.stats().handled == 2).await,
        "{:?}",
        worker.stats()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        d.replies(),
        ["echo: A", "echo: B"],
        "a reply went out twice"
    );
    let _ = &d.server;
}
