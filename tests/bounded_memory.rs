//! A 100 MB answer against the response-size cap: a clear error, and heap bounded by the cap,
//! measured with a counting global allocator. One test in this binary, so nothing else
//! allocates while it measures.

#[path = "support/alloc.rs"]
mod alloc;

use gewe::{Client, Error};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[global_allocator]
static HEAP: alloc::Counting = alloc::Counting;

const HUNDRED_MB: u64 = 100 * 1000 * 1000;
const MIB: usize = 1024 * 1024;

/// Answers each request with a 100 MB JSON body, chunked or with its `Content-Length`;
/// counts the body bytes it managed to write.
async fn huge_server(declare_length: bool) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let written = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&written);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = sock.read(&mut buf).await;
                let head = if declare_length {
                    format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {HUNDRED_MB}\r\n\r\n")
                } else {
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_owned()
                };
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                // `x` bytes in 64 KiB pieces, never ending early: only the cap stops the read.
                let piece = vec![b'x'; 64 * 1024];
                let mut sent = 0u64;
                while sent < HUNDRED_MB {
                    let n = piece.len().min((HUNDRED_MB - sent) as usize);
                    let ok = if declare_length {
                        sock.write_all(&piece[..n]).await.is_ok()
                    } else {
                        let frame = format!("{n:x}\r\n");
                        sock.write_all(frame.as_bytes()).await.is_ok()
                            && sock.write_all(&piece[..n]).await.is_ok()
                            && sock.write_all(b"\r\n").await.is_ok()
                    };
                    if !ok {
                        break;
                    }
                    sent += n as u64;
                    counter.store(sent, Ordering::SeqCst);
                }
            });
        }
    });
    (addr, written)
}

/// One call against the huge server with `cap` (None: the default 32 MiB); the error, the
/// heap's growth at its peak, and the bytes the server wrote.
async fn call(declare_length: bool, cap: Option<usize>) -> (Error, usize, u64) {
    let (addr, written) = huge_server(declare_length).await;
    let mut builder = Client::builder()
        .token("t0ken-memory")
        .base_url(format!("http://{addr}/gewe/v2/api"))
        .timeout(Duration::from_secs(60));
    if let Some(cap) = cap {
        builder = builder.max_response_bytes(cap);
    }
    let client = builder.build().expect("client");
    let body = serde_json::from_value(serde_json::json!({"appId": "wx_app"})).expect("body");
    // Warm up the pool and the runtime so that their one-time allocations are not counted.
    let _ = client.login_check_online(&body).await;
    let before = alloc::reset_peak();
    let err = client.login_check_online(&body).await.unwrap_err();
    let growth = alloc::peak().saturating_sub(before);
    tokio::time::sleep(Duration::from_millis(100)).await;
    (err, growth, written.load(Ordering::SeqCst))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_megabyte_bodies_are_refused_with_bounded_memory() {
    let mut report = Vec::new();
    for (declare_length, cap, bound) in [
        // Streamed in: the cap ends the read, and the buffer never grows past the cap. The
        // allocator counts a growing buffer's old and new blocks as both live (as during a
        // copying realloc), so the last doubling can show 1.5 × the cap.
        (false, Some(MIB), MIB + MIB / 2 + 2 * MIB),
        (false, None, 32 * MIB + 16 * MIB + 2 * MIB),
        // Declared: refused from the headers, before any of the body is read.
        (true, Some(MIB), 2 * MIB),
        (true, None, 2 * MIB),
    ] {
        let (err, growth, written) = call(declare_length, cap).await;
        let limit = cap.unwrap_or(32 * MIB);
        match &err {
            Error::ResponseTooLarge(e) => assert_eq!(e.limit, limit),
            other => panic!("expected ResponseTooLarge, got {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.contains(&limit.to_string()) && text.contains("max_response_bytes"),
            "the error should name the limit and the setting: {text}"
        );
        assert!(
            growth <= bound,
            "heap grew by {growth} B for a {limit} B cap (declared: {declare_length})"
        );
        // What the server got out before the client stopped: the cap plus what the sockets'
        // buffers hold, far from 100 MB.
        assert!(
            written < (limit + 16 * MIB) as u64,
            "the server wrote {written} B against a {limit} B cap: the client read on"
        );
        report.push(format!(
            "declared={declare_length} cap={limit} B: heap peak +{growth} B, server wrote {written} B"
        ));
    }
    for line in report {
        println!("{line}");
    }
}
