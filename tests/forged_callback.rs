//! A forged `sysmsgtemplate` whose nicknames repeat their own placeholder: filled link after
//! link, each `<link>` would double the notice's text, and 40 links in 5 KB would need
//! terabytes. Posted to a real webhook, it must be answered at once, classified with the
//! nicknames inserted as written, and cost less than 1 MB of heap. One test in this binary, so
//! nothing else allocates while it measures.

#[path = "support/alloc.rs"]
mod alloc;

use gewe::events::Event;
use gewe::webhook::WebhookServer;
use std::time::{Duration, Instant};

#[global_allocator]
static HEAP: alloc::Counting = alloc::Counting;

/// A member-join notice whose template is one placeholder, with `links` links of that name,
/// each nickname holding the placeholder twice.
fn forged(links: usize) -> serde_json::Value {
    let link = r#"<link name="names"><memberlist><member><nickname><![CDATA[$names$$names$]]></nickname></member></memberlist></link>"#;
    let content = format!(
        r#"34757816141@chatroom:
<sysmsg type="sysmsgtemplate"><sysmsgtemplate><content_template type="tmpl_type_profile"><plain><![CDATA[]]></plain><template><![CDATA["$names$"加入了群聊]]></template><link_list>{}</link_list></content_template></sysmsgtemplate></sysmsg>"#,
        link.repeat(links)
    );
    serde_json::json!({
        "TypeName": "AddMsg", "Appid": "wx_app", "Wxid": "wxid_bot",
        "Data": {
            "MsgId": links, "NewMsgId": 4277166135712937000u64 + links as u64, "MsgType": 10002,
            "FromUserName": {"string": "34757816141@chatroom"},
            "ToUserName": {"string": "wxid_bot"},
            "Content": {"string": content}, "CreateTime": 1705043418
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_template_is_answered_at_once_in_bounded_memory() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let running = WebhookServer::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .handler(move |event: Event| {
            let tx = tx.clone();
            async move { tx.send(event).map_err(|e| e.to_string()) }
        })
        .start()
        .await
        .expect("webhook");
    gewe::install_tls_provider();
    let http = reqwest::Client::new();
    let url = format!("http://{}/", running.local_addr());
    // Warm up the connection, the runtime and the handler's path on a harmless delivery.
    let warm = http
        .post(&url)
        .json(&forged(1))
        .send()
        .await
        .expect("answer");
    assert_eq!(warm.status(), 200);
    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("handled")
        .expect("event");
    assert!(matches!(first, Event::MemberJoined(_)), "{}", first.kind());

    let body = serde_json::to_vec(&forged(40)).unwrap();
    assert!(body.len() < 6 * 1024, "{} bytes", body.len());
    let before = alloc::reset_peak();
    let started = Instant::now();
    let answer = http
        .post(&url)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .expect("answer");
    let answered = started.elapsed();
    assert_eq!(answer.status(), 200);
    let event = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("classified within 5 s")
        .expect("event");
    let grew = alloc::peak().saturating_sub(before);
    let Event::MemberJoined(notice) = &event else {
        panic!("a member join, not {}", event.kind())
    };
    // Filled once: the nickname is inserted as written, never expanded again.
    assert_eq!(notice.text(), "\"$names$$names$\"加入了群聊");
    eprintln!(
        "40 links, {} bytes: answered in {answered:?}, heap peak +{grew} B",
        body.len()
    );
    assert!(
        answered < Duration::from_millis(100),
        "answered in {answered:?}"
    );
    assert!(grew < 1024 * 1024, "the heap peak grew by {grew} B");
    running.shutdown().await;
}
