//! 10,000 calls through one `Client` from 256 tasks against the mock: no errors, every answer
//! matched to its own request, and heap bounded. One test in this binary, so that the counting
//! allocator measures it alone.

#[path = "support/alloc.rs"]
mod alloc;

use gewe::mock::{MockReply, MockServer};
use gewe::types::MessagePostTextRequest;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Instant;

#[global_allocator]
static HEAP: alloc::Counting = alloc::Counting;

const TASKS: usize = 256;
const CALLS: usize = 10_000;
const MIB: usize = 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_calls_from_256_tasks_each_get_their_own_answer() {
    let mock = MockServer::start().await.expect("mock");
    // The answer is made from the request: the call number travels in the content and comes
    // back in toWxid and newMsgId, so a crossed answer would be seen.
    mock.respond_with("/message/postText", |body: &Value| {
        let n: u64 = body["content"]
            .as_str()
            .and_then(|c| c.strip_prefix("call-"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(u64::MAX);
        MockReply::ok(Some(json!({
            "toWxid": body["toWxid"],
            "createTime": 1705043418,
            "msgId": n,
            // Above 2^53, where a float would lose the call number.
            "newMsgId": 7_000_000_000_000_000_000u64 + n,
            "type": 1,
        })))
    });
    let client = mock.client().expect("client");
    let baseline = alloc::reset_peak();
    let started = Instant::now();

    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for n in (t..CALLS).step_by(TASKS) {
                let request = MessagePostTextRequest {
                    app_id: "wx_app".into(),
                    to_wxid: format!("wxid_friend_{n}"),
                    content: format!("call-{n}"),
                    ats: None,
                };
                let sent = client
                    .message_post_text(&request)
                    .await
                    .map_err(|e| format!("call {n}: {e}"))?;
                if sent.to_wxid.as_deref() != Some(request.to_wxid.as_str()) {
                    return Err(format!("call {n} got the answer for {:?}", sent.to_wxid));
                }
                if sent.msg_id.as_ref().and_then(|i| i.as_u64()) != Some(n as u64) {
                    return Err(format!("call {n} got msgId {:?}", sent.msg_id));
                }
                let new_msg_id = sent.new_msg_id.as_ref().and_then(|i| i.as_u64());
                if new_msg_id != Some(7_000_000_000_000_000_000 + n as u64) {
                    return Err(format!("call {n} got newMsgId {new_msg_id:?}"));
                }
                seen.push(n);
            }
            Ok::<_, String>(seen)
        }));
    }
    let mut answered = HashSet::new();
    for task in tasks {
        for n in task.await.expect("task").expect("no call fails") {
            assert!(answered.insert(n), "call {n} answered twice");
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(answered.len(), CALLS);

    let received = mock.received_for("/message/postText");
    assert_eq!(received.len(), CALLS, "each call reached the mock once");
    let contents: HashSet<&str> = received
        .iter()
        .filter_map(|r| r.body["content"].as_str())
        .collect();
    assert_eq!(contents.len(), CALLS, "every request was distinct");

    // The mock keeps every request it received, so its record is part of the peak.
    let peak = alloc::peak().saturating_sub(baseline);
    drop(received);
    mock.reset();
    // Both sides still hold their keep-alive connections (up to one per task), with buffers.
    let idle = alloc::live().saturating_sub(baseline);
    drop(client);
    drop(mock);
    // The connections close in the background: wait for it, up to 10 s on a loaded machine.
    let mut after = alloc::live().saturating_sub(baseline);
    for _ in 0..100 {
        if after < 2 * MIB {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        after = alloc::live().saturating_sub(baseline);
    }
    println!(
        "{CALLS} calls from {TASKS} tasks in {:.2} s ({:.0} calls/s); heap peak +{:.1} MiB, \
         +{:.1} MiB with the connections idle, +{:.2} MiB once client and mock are dropped",
        elapsed.as_secs_f64(),
        CALLS as f64 / elapsed.as_secs_f64(),
        peak as f64 / MIB as f64,
        idle as f64 / MIB as f64,
        after as f64 / MIB as f64,
    );
    assert!(peak < 64 * MIB, "heap grew by {peak} B");
    // Nothing per call stays: what is left once both ends are gone is small and fixed.
    assert!(after < 2 * MIB, "{after} B still live after the calls");
}
