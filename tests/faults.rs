//! Fault injection on a raw TCP server on loopback: resets, slow answers, HTML, truncated JSON.
//! (100 MB bodies are in `bounded_memory.rs`.) Every fault is tried with a retry policy switched
//! on, and the server counts accepted connections and whole requests, so each test also proves
//! that a send that may have reached the server is sent exactly once. The faults that fail the
//! call before any answer arrives (reset on accept, reset or close after the request, a server
//! slower than the timeout) are the ones the retry loop sees; the others fail while the answer
//! is read, after it.

use gewe::types::MessagePostTextRequest;
use gewe::{Client, Error, RetryPolicy};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const OK_BODY: &str = r#"{"ret":200,"msg":"操作成功","data":{"toWxid":"wxid_friend","createTime":1705043418,"msgId":640356095,"newMsgId":7773749793478223190,"type":1}}"#;

/// What the server does with each request it reads.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// A valid answer.
    Answer,
    /// A TCP reset as soon as the connection is accepted, before the request is read.
    ResetOnAccept,
    /// The request is read, then a TCP reset with no answer.
    ResetAfterRequest,
    /// Headers promising 100,000 bytes, 512 of them, then a TCP reset.
    ResetMidBody,
    /// The request is read and the connection closed without an answer.
    CloseWithoutAnswer,
    /// The answer comes after this long.
    Slow(Duration),
    /// An nginx-style HTML 502.
    Html502,
    /// A complete HTTP answer whose JSON stops half way.
    TruncatedJson,
    /// `Content-Length` longer than the JSON sent, then the connection closes.
    ShortBody,
}

struct RawServer {
    addr: SocketAddr,
    /// Connections accepted: a retry would open another.
    connections: Arc<AtomicUsize>,
    /// Whole requests read: each one is a send the server received.
    requests: Arc<AtomicUsize>,
}

impl RawServer {
    async fn start(fault: Fault) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve(listener, fault)
    }

    fn serve(listener: TcpListener, fault: Fault) -> RawServer {
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let (counter, accepted) = (Arc::clone(&requests), Arc::clone(&connections));
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                let counter = Arc::clone(&counter);
                tokio::spawn(async move { connection(sock, fault, counter).await });
            }
        });
        RawServer {
            addr,
            connections,
            requests,
        }
    }

    fn client(&self, timeout: Duration) -> Client {
        client_for(self.addr, timeout)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn client_for(addr: SocketAddr, timeout: Duration) -> Client {
    Client::builder()
        .token("t0ken-faults")
        .base_url(format!("http://{addr}/gewe/v2/api"))
        .timeout(timeout)
        .retry(
            RetryPolicy::connect_errors(5)
                .initial_backoff(Duration::from_millis(20))
                .max_backoff(Duration::from_millis(100)),
        )
        .build()
        .expect("client")
}

/// Reads one whole HTTP/1.1 request (headers and `Content-Length` body); false at EOF.
async fn read_request(sock: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    true
}

fn answer(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn connection(mut sock: TcpStream, fault: Fault, requests: Arc<AtomicUsize>) {
    if let Fault::ResetOnAccept = fault {
        let _ = sock.set_zero_linger();
        return;
    }
    while read_request(&mut sock).await {
        requests.fetch_add(1, Ordering::SeqCst);
        match fault {
            Fault::Answer => {
                let _ = sock
                    .write_all(&answer("200 OK", "application/json", OK_BODY))
                    .await;
            }
            Fault::ResetOnAccept => unreachable!("handled before reading"),
            Fault::ResetAfterRequest => {
                let _ = sock.set_zero_linger();
                return;
            }
            Fault::ResetMidBody => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n";
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&[b' '; 512]).await;
                let _ = sock.flush().await;
                let _ = sock.set_zero_linger();
                return; // dropped with SO_LINGER 0: a reset
            }
            Fault::CloseWithoutAnswer => return,
            Fault::Slow(delay) => {
                tokio::time::sleep(delay).await;
                let _ = sock
                    .write_all(&answer("200 OK", "application/json", OK_BODY))
                    .await;
            }
            Fault::Html502 => {
                let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
                let _ = sock
                    .write_all(&answer("502 Bad Gateway", "text/html", html))
                    .await;
            }
            Fault::TruncatedJson => {
                let cut = &OK_BODY[..OK_BODY.len() / 2];
                let _ = sock
                    .write_all(&answer("200 OK", "application/json", cut))
                    .await;
            }
            Fault::ShortBody => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    OK_BODY.len() + 100
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(OK_BODY.as_bytes()).await;
                let _ = sock.shutdown().await;
                return;
            }
        }
    }
}

fn send() -> MessagePostTextRequest {
    MessagePostTextRequest {
        app_id: "wx_app".into(),
        to_wxid: "wxid_friend".into(),
        content: "只发一次".into(),
        ats: None,
    }
}

/// One send through a server with `fault`; the error, how many requests the server read once
/// any retry would have had time to happen, and how long the call took. Fails when the client
/// opened a second connection: that would be a retry.
async fn send_through(fault: Fault, timeout: Duration) -> (Result<(), Error>, usize, Duration) {
    let server = RawServer::start(fault).await;
    let client = server.client(timeout);
    let started = Instant::now();
    let result = client.message_post_text(&send()).await.map(|_| ());
    let elapsed = started.elapsed();
    // Longer than the policy's largest backoff: a retry would have arrived by now.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        server.connections(),
        1,
        "{fault:?}: the client connected again, so it retried ({result:?})"
    );
    (result, server.requests(), elapsed)
}

#[tokio::test]
async fn reset_on_accept_is_a_transport_error_not_retried() {
    let (result, requests, _) = send_through(Fault::ResetOnAccept, Duration::from_secs(10)).await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    // The connection was made, so the request may have been written: it is not a connect error.
    assert!(err.may_have_reached_server(), "{err:?}");
    assert!(requests <= 1);
}

#[tokio::test]
async fn reset_after_the_request_is_a_transport_error_sent_once() {
    let (result, requests, _) =
        send_through(Fault::ResetAfterRequest, Duration::from_secs(10)).await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.may_have_reached_server(), "{err:?}");
    assert_eq!(requests, 1, "a send that reached the server was sent again");
}

#[tokio::test]
async fn reset_mid_body_is_a_transport_error_sent_once() {
    let (result, requests, _) = send_through(Fault::ResetMidBody, Duration::from_secs(10)).await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.may_have_reached_server(), "{err:?}");
    assert!(!err.is_timeout());
    assert_eq!(requests, 1, "a send that reached the server was sent again");
}

#[tokio::test]
async fn close_without_answer_is_a_transport_error_sent_once() {
    let (result, requests, _) =
        send_through(Fault::CloseWithoutAnswer, Duration::from_secs(10)).await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.may_have_reached_server());
    assert_eq!(requests, 1, "a send that reached the server was sent again");
}

#[tokio::test]
async fn server_slower_than_the_timeout_times_out_sent_once() {
    let (result, requests, elapsed) = send_through(
        Fault::Slow(Duration::from_secs(5)),
        Duration::from_millis(300),
    )
    .await;
    let err = result.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.may_have_reached_server());
    assert!(
        elapsed < Duration::from_secs(2),
        "timed out after {elapsed:?}"
    );
    assert_eq!(requests, 1, "a timed-out send was sent again");
}

#[tokio::test]
async fn html_502_is_a_status_error_sent_once() {
    let (result, requests, _) = send_through(Fault::Html502, Duration::from_secs(10)).await;
    match result.unwrap_err() {
        Error::Status(e) => {
            assert_eq!(e.status.as_u16(), 502);
            assert!(e.snippet.contains("502 Bad Gateway"), "{}", e.snippet);
            assert!(e.envelope.is_none());
        }
        other => panic!("expected a status error, got {other:?}"),
    }
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn truncated_json_is_a_decode_error_sent_once() {
    let (result, requests, _) = send_through(Fault::TruncatedJson, Duration::from_secs(10)).await;
    match result.unwrap_err() {
        Error::Decode(e) => {
            assert!(e.reason.contains("envelope"), "{}", e.reason);
            assert_eq!(e.snippet, &OK_BODY[..OK_BODY.len() / 2]);
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn body_shorter_than_its_length_is_a_transport_error_sent_once() {
    let (result, requests, _) = send_through(Fault::ShortBody, Duration::from_secs(10)).await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn a_healthy_server_gets_each_send_once() {
    let (result, requests, _) = send_through(Fault::Answer, Duration::from_secs(10)).await;
    result.expect("a valid answer");
    assert_eq!(requests, 1);
}

/// Connection refused until the server comes up: the opt-in retry connects, and the send
/// arrives once.
#[tokio::test]
async fn connect_errors_are_retried_and_the_send_arrives_once() {
    let port_holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = port_holder.local_addr().expect("addr");
    drop(port_holder); // nothing listens: connections are refused
                       // Many short waits: the server comes up long before they run out, however the jitter falls.
    let client = Client::builder()
        .token("t0ken-faults")
        .base_url(format!("http://{addr}/gewe/v2/api"))
        .retry(
            RetryPolicy::connect_errors(1000)
                .initial_backoff(Duration::from_millis(5))
                .max_backoff(Duration::from_millis(5)),
        )
        .build()
        .expect("client");
    let retries = RetryCounter::install();
    let call = tokio::spawn(async move { client.message_post_text(&send()).await });
    while retries.count() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let listener = TcpListener::bind(addr).await.expect("rebind the port");
    let server = RawServer::serve(listener, Fault::Answer);
    let sent = call
        .await
        .expect("task")
        .expect("the retry reaches the server");
    assert_eq!(sent.to_wxid.as_deref(), Some("wxid_friend"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.connections(), 1);
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn retry_gives_up_after_max_retries_and_no_retry_is_the_default() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let policy = RetryPolicy::connect_errors(3)
        .initial_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(20));
    assert_eq!(policy.max_retries(), 3);
    let retrying = Client::builder()
        .token("t")
        .base_url(format!("http://{addr}/gewe/v2/api"))
        .retry(policy)
        .build()
        .expect("client");
    let retries = RetryCounter::install();
    let err = retrying.message_post_text(&send()).await.unwrap_err();
    assert!(
        matches!(err, Error::Transport(_)) && !err.may_have_reached_server(),
        "{err:?}"
    );
    assert_eq!(retries.count(), 3, "three retries, then the connect error");
    let plain = Client::builder()
        .token("t")
        .base_url(format!("http://{addr}/gewe/v2/api"))
        .build()
        .expect("client");
    let retries = RetryCounter::install();
    let err = plain.message_post_text(&send()).await.unwrap_err();
    assert!(!err.may_have_reached_server(), "{err:?}");
    assert_eq!(retries.count(), 0, "no policy, no retry");
}

/// Counts the client's "retrying" debug events on this thread (the tests' runtime is
/// single-threaded, so the client's code runs here).
struct RetryCounter {
    count: Arc<AtomicUsize>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl RetryCounter {
    fn install() -> RetryCounter {
        let count = Arc::new(AtomicUsize::new(0));
        let guard = tracing::subscriber::set_default(Events(Arc::clone(&count)));
        RetryCounter {
            count,
            _guard: guard,
        }
    }

    fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

struct Events(Arc<AtomicUsize>);

struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl tracing::Subscriber for Events {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        if message.0.contains("could not connect; retrying") {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// The same through the mock: a send answered after the timeout is recorded once.
#[tokio::test]
async fn mock_records_a_timed_out_send_once() {
    use gewe::mock::{MockReply, MockServer};
    let mock = MockServer::start().await.expect("mock");
    mock.respond(
        "/message/postText",
        MockReply::ok(None).with_delay(Duration::from_secs(3)),
    );
    let client = Client::builder()
        .token(mock.token())
        .base_url(mock.base_url())
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::connect_errors(5).initial_backoff(Duration::from_millis(1)))
        .build()
        .expect("client");
    let err = client.message_post_text(&send()).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mock.received_for("/message/postText").len(), 1);
}

/// The request on the wire carries the token and only the headers GeWe documents: not the
/// `api-version` header progenitor adds to every request.
#[tokio::test]
async fn the_wire_request_has_the_token_and_no_api_version_header() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let head = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0u8; 64 * 1024];
        let n = sock.read(&mut buf).await.expect("read");
        let _ = sock
            .write_all(&answer("200 OK", "application/json", OK_BODY))
            .await;
        String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase()
    });
    client_for(addr, Duration::from_secs(10))
        .message_post_text(&send())
        .await
        .expect("sent");
    let head = head.await.expect("server");
    assert!(
        head.starts_with("post /gewe/v2/api/message/posttext http/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.contains("\r\nx-gewe-token: t0ken-faults\r\n"),
        "{head}"
    );
    assert!(
        head.contains("\r\ncontent-type: application/json\r\n"),
        "{head}"
    );
    assert!(!head.contains("api-version"), "{head}");
}
