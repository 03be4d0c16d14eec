//! The webhook receiver's request handler, on whole HTTP requests without a socket.
//!
//! Input: one byte choosing the method, the path, a `Content-Length` and the allowlist, then
//! the body. Checks beyond "no panic":
//! - only the documented statuses are answered;
//! - an event is handed on exactly when the answer is 200 for a JSON object that is not GeWe's
//!   test delivery, and it carries the body whole;
//! - the same delivery again is never handed on twice when it has a `NewMsgId`.
#![no_main]

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use gewe::fuzzing::FuzzReceiver;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::OnceLock;

#[path = "../src/oracle.rs"]
mod oracle;

const LIMIT: usize = 64 * 1024;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    })
}

fn request(mode: u8, body: &[u8]) -> Request<Body> {
    let method = if oracle::webhook_is_get(mode) {
        Method::GET
    } else {
        Method::POST
    };
    let mut builder = Request::builder()
        .method(method)
        .uri(oracle::webhook_path(mode));
    if oracle::webhook_declares_length(mode) {
        builder = builder.header("content-length", body.len().to_string());
    }
    builder
        .body(Body::from(body.to_vec()))
        .expect("a valid request")
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let allow = oracle::webhook_allowlist(mode);
    runtime().block_on(async {
        let mut receiver = FuzzReceiver::new(allow.clone(), LIMIT);
        let (status, event) = receiver.deliver(request(mode, body)).await;
        assert!(
            oracle::WEBHOOK_STATUSES.contains(&status.as_u16()),
            "unexpected status {status}"
        );
        let parsed = serde_json::from_slice::<Value>(body)
            .ok()
            .filter(Value::is_object);
        if let Some(event) = &event {
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                Some(event.raw()),
                parsed.as_ref(),
                "the event lost the body"
            );
            assert!(
                event.raw().get("testMsg").is_none(),
                "a test delivery was handed on"
            );
        }
        if status == StatusCode::OK && event.is_none() {
            let v = parsed
                .as_ref()
                .expect("200 without an event needs a JSON object");
            assert!(v.get("testMsg").is_some(), "a delivery was dropped: {v}");
        }
        if let Some(first) = event {
            let (again, second) = receiver.deliver(request(mode, body)).await;
            if first.new_msg_id().is_some() {
                assert_eq!(again, StatusCode::OK);
                assert!(second.is_none(), "a duplicate was handed on");
            } else {
                assert!(
                    second.is_some(),
                    "an event without NewMsgId was deduplicated"
                );
            }
        }
    });
});
