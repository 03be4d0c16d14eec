//! `WebhookServer` over real HTTP on loopback: fast answers whatever the handler does,
//! deduplication, GeWe's test message, bad bodies, limits, a full queue, handler failures, the
//! secret path, the allowlist and a draining shutdown.

use gewe::events::Event;
use gewe::webhook::{RunningWebhook, WebhookBuilder, WebhookError, WebhookServer};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, Semaphore};

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().expect("an HTTP client")
}

fn loopback() -> WebhookBuilder {
    WebhookServer::builder().listen("127.0.0.1:0".parse().expect("addr"))
}

/// A server whose handler forwards every event to the returned receiver.
async fn forwarding(
    builder: WebhookBuilder,
) -> (RunningWebhook, String, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let running = builder
        .handler(move |event: Event| {
            let tx = tx.clone();
            async move { tx.send(event).map_err(|_| "receiver gone") }
        })
        .start()
        .await
        .expect("started");
    let url = url(&running);
    (running, url, rx)
}

fn url(running: &RunningWebhook) -> String {
    format!("http://{}{}", running.local_addr(), running.callback_path())
}

async fn post(url: &str, body: impl Into<reqwest::Body>) -> u16 {
    http()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("answered")
        .status()
        .as_u16()
}

async fn post_json(url: &str, value: &Value) -> u16 {
    post(url, value.to_string()).await
}

fn msg(app_id: &str, new_msg_id: u64, text: &str) -> Value {
    json!({
        "TypeName": "AddMsg",
        "Appid": app_id,
        "Wxid": "wxid_me",
        "Data": {
            "MsgId": 1,
            "FromUserName": {"string": "wxid_friend"},
            "ToUserName": {"string": "wxid_me"},
            "MsgType": 1,
            "Content": {"string": text},
            "NewMsgId": new_msg_id
        }
    })
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("an event in time")
        .expect("open")
}

fn text(event: &Event) -> &str {
    event.raw()["Data"]["Content"]["string"]
        .as_str()
        .unwrap_or("-")
}

/// Drains what is handed on after a final sentinel, which must arrive last.
async fn until_sentinel(url: &str, rx: &mut mpsc::UnboundedReceiver<Event>) -> Vec<String> {
    assert_eq!(
        post_json(url, &msg("wx_end", 999_999, "sentinel")).await,
        200
    );
    let mut out = Vec::new();
    loop {
        let e = next(rx).await;
        if text(&e) == "sentinel" {
            return out;
        }
        out.push(text(&e).to_owned());
    }
}

#[tokio::test]
async fn answers_fast_while_the_handler_is_slow() {
    let running = loopback()
        .handler(|_event: Event| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<(), String>(())
        })
        .start()
        .await
        .expect("started");
    let url = url(&running);
    for i in 0..3 {
        let t = Instant::now();
        assert_eq!(post_json(&url, &msg("wx_a", i, "slow")).await, 200);
        let took = t.elapsed();
        assert!(
            took < Duration::from_millis(500),
            "answer {i} took {took:?}"
        );
    }
    assert_eq!(running.stats().queued, 3);
}

#[tokio::test]
async fn duplicates_are_dropped_by_appid_and_new_msg_id() {
    let (running, url, mut rx) = forwarding(loopback()).await;
    assert_eq!(post_json(&url, &msg("wx_a", 1, "a1")).await, 200);
    assert_eq!(post_json(&url, &msg("wx_a", 1, "a1 again")).await, 200);
    // The same NewMsgId on another device is another message.
    assert_eq!(post_json(&url, &msg("wx_b", 1, "b1")).await, 200);
    // The id as a string is the same message.
    let mut as_string = msg("wx_a", 1, "a1 as string");
    as_string["Data"]["NewMsgId"] = json!("1");
    assert_eq!(post_json(&url, &as_string).await, 200);
    // No NewMsgId: never deduplicated.
    let offline = json!({"TypeName": "Offline", "Appid": "wx_a", "Wxid": "wxid_me"});
    assert_eq!(post_json(&url, &offline).await, 200);
    assert_eq!(post_json(&url, &offline).await, 200);

    let handed = until_sentinel(&url, &mut rx).await;
    assert_eq!(handed, ["a1", "b1", "-", "-"]);
    assert_eq!(running.stats().duplicates, 2);
}

/// One group message in every shape it arrives in (`tests/fixtures/callbacks/shape_*.json`):
/// the first is handed on, the others are its duplicates, and the allowlist reads each shape's
/// `Appid`.
#[tokio::test]
async fn every_shape_of_one_message_is_deduplicated_against_the_plain_form() {
    let shapes: [(&str, &str); 5] = [
        (
            "plain",
            include_str!("fixtures/callbacks/shape_group_text.json"),
        ),
        (
            "snake case",
            include_str!("fixtures/callbacks/shape_snake_case.json"),
        ),
        (
            "string ids",
            include_str!("fixtures/callbacks/shape_string_ids.json"),
        ),
        (
            "wrapped MsgSource",
            include_str!("fixtures/callbacks/shape_msgsource_wrapped.json"),
        ),
        (
            "flat v2",
            include_str!("fixtures/callbacks/shape_flat_v2.json"),
        ),
    ];
    let (running, url, mut rx) =
        forwarding(loopback().allow_app_ids(["wx_example_app_id", "wx_end"])).await;
    for (name, body) in shapes {
        assert_eq!(post(&url, body).await, 200, "{name}");
    }
    let first = next(&mut rx).await;
    assert_eq!(
        first.raw(),
        &serde_json::from_str::<Value>(shapes[0].1).unwrap()
    );
    let handed = until_sentinel(&url, &mut rx).await;
    assert!(handed.is_empty(), "handed on again: {handed:?}");
    let stats = running.stats();
    assert_eq!((stats.duplicates, stats.rejected), (4, 0));

    // In the other order too: the snake-case form first, the plain one its duplicate.
    let (running, url, mut rx) = forwarding(loopback()).await;
    for (name, body) in [shapes[1], shapes[0], shapes[2]] {
        assert_eq!(post(&url, body).await, 200, "{name}");
    }
    assert_eq!(next(&mut rx).await.kind(), "Text");
    assert!(until_sentinel(&url, &mut rx).await.is_empty());
    assert_eq!(running.stats().duplicates, 2);
}

#[tokio::test]
async fn the_dedup_window_forgets_by_age_and_count() {
    let (_running, url, mut rx) =
        forwarding(loopback().dedup_window(2, Duration::from_millis(300))).await;
    for (id, t) in [(1, "1"), (2, "2"), (3, "3"), (1, "1 after eviction")] {
        assert_eq!(post_json(&url, &msg("wx_a", id, t)).await, 200);
    }
    assert_eq!(post_json(&url, &msg("wx_a", 3, "3 dup")).await, 200);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        post_json(&url, &msg("wx_a", 3, "3 after max age")).await,
        200
    );
    let handed = until_sentinel(&url, &mut rx).await;
    assert_eq!(
        handed,
        ["1", "2", "3", "1 after eviction", "3 after max age"]
    );
}

#[tokio::test]
async fn the_test_delivery_is_answered_not_handed_on() {
    let (running, url, mut rx) = forwarding(loopback()).await;
    let test = json!({"testMsg": "验证回调地址是否可用", "token": "t"});
    assert_eq!(post_json(&url, &test).await, 200);
    assert!(until_sentinel(&url, &mut rx).await.is_empty());
    assert_eq!(running.stats().test_messages, 1);
}

#[tokio::test]
async fn any_object_is_handed_on_even_without_type_name() {
    let (_running, url, mut rx) = forwarding(loopback()).await;
    // The mac payload shape of GeWe's docs.
    let mac = json!({"wcId": "wxid_me", "account": "a", "messageType": "80001",
                     "data": {"newMsgId": 5, "content": "hi"}});
    assert_eq!(post_json(&url, &mac).await, 200);
    let e = next(&mut rx).await;
    assert_eq!(e.raw(), &mac);
    assert_eq!(e.app_id(), None);
}

#[tokio::test]
async fn bad_bodies_get_400_and_the_server_keeps_going() {
    let (running, url, mut rx) = forwarding(loopback()).await;
    assert_eq!(post(&url, "{not json").await, 400);
    assert_eq!(post(&url, "[1, 2]").await, 400);
    assert_eq!(post(&url, "\"text\"").await, 400);
    assert_eq!(post(&url, "").await, 400);
    assert_eq!(post(&url, vec![0xff_u8, 0xfe]).await, 400);
    assert_eq!(post_json(&url, &msg("wx_a", 1, "fine")).await, 200);
    assert_eq!(until_sentinel(&url, &mut rx).await, ["fine"]);
    assert_eq!(running.stats().rejected, 5);
    // Other methods and paths.
    let r = http().get(&url).send().await.expect("answered");
    assert_eq!(r.status().as_u16(), 405);
    let other = format!("http://{}/elsewhere", running.local_addr());
    assert_eq!(post(&other, "{}").await, 404);
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413() {
    let (running, url, mut rx) = forwarding(loopback().max_body_bytes(1024)).await;
    let big = json!({"Appid": "wx_a", "pad": "x".repeat(2000)});
    assert_eq!(post_json(&url, &big).await, 413);

    // Chunked, so that no Content-Length warns ahead: the limit applies while reading.
    let mut stream = tokio::net::TcpStream::connect(running.local_addr())
        .await
        .expect("connect");
    let chunk = "x".repeat(600);
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {:x}\r\n{chunk}\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        running.callback_path(),
        chunk.len(),
        chunk.len()
    );
    stream.write_all(request.as_bytes()).await.expect("written");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    let small = json!({"Appid": "wx_a", "pad": "x".repeat(100)});
    assert_eq!(post_json(&url, &small).await, 200);
    assert_eq!(next(&mut rx).await.raw(), &small);
}

#[tokio::test]
async fn a_full_queue_answers_503_and_a_retry_is_accepted_later() {
    let gate = Arc::new(Semaphore::new(0));
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (done_tx, mut done) = mpsc::unbounded_channel();
    let handler_gate = Arc::clone(&gate);
    let running = loopback()
        .queue_capacity(1)
        .handler(move |event: Event| {
            let gate = Arc::clone(&handler_gate);
            let (started_tx, done_tx) = (started_tx.clone(), done_tx.clone());
            async move {
                let _ = started_tx.send(());
                gate.acquire().await.map_err(|e| e.to_string())?.forget();
                let _ = done_tx.send(text(&event).to_owned());
                Ok::<(), String>(())
            }
        })
        .start()
        .await
        .expect("started");
    let url = url(&running);

    assert_eq!(post_json(&url, &msg("wx_a", 1, "running")).await, 200);
    started.recv().await.expect("the handler started");
    assert_eq!(post_json(&url, &msg("wx_a", 2, "queued")).await, 200);
    assert_eq!(post_json(&url, &msg("wx_a", 3, "refused")).await, 503);
    assert_eq!(running.stats().queue_full, 1);

    gate.add_permits(10);
    assert_eq!(done.recv().await.as_deref(), Some("running"));
    assert_eq!(done.recv().await.as_deref(), Some("queued"));
    // GeWe's retry of the refused delivery is not taken for a duplicate.
    assert_eq!(post_json(&url, &msg("wx_a", 3, "refused")).await, 200);
    assert_eq!(done.recv().await.as_deref(), Some("refused"));
}

#[tokio::test]
async fn a_failing_or_panicking_handler_loses_no_other_event() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let running = loopback()
        .handler(move |event: Event| {
            let tx = tx.clone();
            async move {
                match text(&event) {
                    "panic" => panic!("handler bug"),
                    "error" => Err("handler error".to_owned()),
                    t => {
                        let _ = tx.send(t.to_owned());
                        Ok(())
                    }
                }
            }
        })
        .start()
        .await
        .expect("started");
    let url = url(&running);
    for (i, t) in ["before", "panic", "between", "error", "after"]
        .iter()
        .enumerate()
    {
        assert_eq!(post_json(&url, &msg("wx_a", i as u64, t)).await, 200);
    }
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(
            tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .expect("in time")
                .expect("open"),
        );
    }
    assert_eq!(got, ["before", "between", "after"]);
    let stats = running.stats();
    assert_eq!(
        (stats.handler_panics, stats.handler_errors, stats.handled),
        (1, 1, 3)
    );
    assert_eq!(post_json(&url, &msg("wx_a", 10, "still up")).await, 200);
}

#[tokio::test]
async fn only_the_secret_path_is_served() {
    let (running, url, mut rx) =
        forwarding(loopback().path("/callback").secret_path("s3cr3t-K")).await;
    assert_eq!(running.callback_path(), "/callback/s3cr3t-K");
    let base = format!("http://{}", running.local_addr());
    for wrong in [
        "/callback/s3cr3t-k",
        "/callback/s3cr3t",
        "/callback/s3cr3t-KK",
        "/callback/",
        "/callback",
        "/callback/s3cr3t-K/x",
        "/s3cr3t-K",
        "/",
    ] {
        assert_eq!(
            post_json(&format!("{base}{wrong}"), &msg("wx_a", 1, "x")).await,
            404,
            "{wrong}"
        );
    }
    assert_eq!(post_json(&url, &msg("wx_a", 1, "right")).await, 200);
    assert_eq!(text(&next(&mut rx).await), "right");
}

#[tokio::test]
async fn the_allowlist_refuses_other_devices_with_403() {
    let (_running, url, mut rx) = forwarding(loopback().allow_app_ids(["wx_ok", "wx_end"])).await;
    assert_eq!(post_json(&url, &msg("wx_other", 1, "other")).await, 403);
    assert_eq!(post_json(&url, &json!({"TypeName": "Offline"})).await, 403);
    assert_eq!(post_json(&url, &msg("wx_ok", 1, "ok")).await, 200);
    assert_eq!(until_sentinel(&url, &mut rx).await, ["ok"]);
}

#[tokio::test]
async fn shutdown_hands_every_queued_event_to_the_handler() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let running = loopback()
        .handler(move |event: Event| {
            let tx = tx.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(30)).await;
                let _ = tx.send(text(&event).to_owned());
                Ok::<(), String>(())
            }
        })
        .start()
        .await
        .expect("started");
    let url = url(&running);
    let addr = running.local_addr();
    for i in 0..6u64 {
        assert_eq!(post_json(&url, &msg("wx_a", i, &i.to_string())).await, 200);
    }
    running.shutdown().await;
    let mut handled = Vec::new();
    while let Ok(t) = rx.try_recv() {
        handled.push(t);
    }
    assert_eq!(handled, ["0", "1", "2", "3", "4", "5"]);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still listening"
    );
}

#[tokio::test]
async fn bad_configurations_are_refused() {
    let no_handler = loopback().start().await.expect_err("no handler");
    assert!(
        matches!(no_handler, WebhookError::Config(_)),
        "{no_handler}"
    );
    let ok = |_: Event| async { Ok::<(), String>(()) };
    let zero = loopback()
        .queue_capacity(0)
        .handler(ok)
        .start()
        .await
        .expect_err("zero");
    assert!(matches!(zero, WebhookError::Config(_)));
    let secret = loopback()
        .secret_path("a/b")
        .handler(ok)
        .start()
        .await
        .expect_err("secret");
    assert!(matches!(secret, WebhookError::Config(_)));
    let path = loopback()
        .path("callback")
        .handler(ok)
        .start()
        .await
        .expect_err("path");
    assert!(matches!(path, WebhookError::Config(_)));

    let first = loopback().handler(ok).start().await.expect("started");
    let taken = WebhookServer::builder()
        .listen(first.local_addr())
        .handler(ok)
        .start()
        .await
        .expect_err("in use");
    assert!(matches!(taken, WebhookError::Bind { .. }), "{taken}");
}
