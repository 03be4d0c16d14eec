//! An in-process GeWe mock server on loopback, for testing bots without a WeChat account.
//!
//! [`MockServer`] answers every operation of the merged spec ([`crate::OPENAPI_SPEC`]) the way
//! GeWe does: it checks the `X-GEWE-TOKEN` header with GeWe's own error texts, validates the
//! request body against the spec's JSON schemas (not against this crate's generated types, so
//! the client is tested against the spec rather than against itself), and answers with the
//! documented example unless a test scripted another answer with [`MockServer::respond`] or
//! [`MockServer::enqueue`]. Everything it receives is recorded for assertions
//! ([`MockServer::received`]).
//!
//! For a request to `{base_url}/...` the server, in this order:
//!
//! 1. records it (always, even when it rejects it);
//! 2. answers HTTP 404 when the path is not an operation of the spec, 405 when the method is not
//!    `POST`;
//! 3. answers GeWe's `{"ret":500,..}` (HTTP 200) when the token header is missing or wrong;
//! 4. answers HTTP 415 when the `content-type` is not `application/json`, 400 when the body is
//!    not JSON;
//! 5. answers HTTP 422 listing every schema violation of the body;
//! 6. answers the first [enqueued](MockServer::enqueue) reply for the path, else the
//!    [sticky](MockServer::respond) one or the [responder's](MockServer::respond_with), else the spec's first success example of the operation
//!    (`{"ret":200,"msg":"操作成功"}` when it documents none).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use gewe::mock::{MockReply, MockServer};
//!
//! let mock = MockServer::start().await?;
//! let client = gewe::Client::builder()
//!     .base_url(mock.base_url())
//!     .token(mock.token())
//!     .build()?;
//! let group = client.device("wx_app_id").group();
//!
//! // The documented example answers by default...
//! let room = group.join_room_using_qr_code("https://weixin.qq.com/g/AwYAAL").await?;
//! assert_eq!(room.chatroom_id.as_deref(), Some("34559815390@chatroom"));
//!
//! // ...unless the test scripts another answer.
//! mock.enqueue("/group/joinRoomUsingQRCode", MockReply::failure(500, Some("群已满"), None));
//! assert!(group.join_room_using_qr_code("https://weixin.qq.com/g/AwYAAL").await.is_err());
//!
//! let received = mock.received_for("/group/joinRoomUsingQRCode");
//! assert_eq!(received.len(), 2);
//! assert!(received[0].violations.is_empty());
//! # Ok(()) }
//! ```

mod account;
mod error;
mod validate;

pub use error::MockError;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The token a [`MockServer::start`]ed server accepts.
pub const DEFAULT_TOKEN: &str = "gewe-mock-token";

/// Checks `value` against a JSON schema whose `$ref`s point inside `schema` itself (as in
/// [`Operation::request_schema`](crate::Operation::request_schema) or the merged spec) and
/// returns every violation, naming the JSON path. Empty when the value fits.
///
/// ```
/// let op = gewe::operation("/group/joinRoomUsingQRCode").unwrap();
/// let schema = serde_json::to_value(op.request_schema().unwrap()).unwrap();
/// let bad = gewe::mock::check_schema(&schema, &serde_json::json!({"appId": 1}));
/// assert!(bad.iter().any(|v| v.contains("appId")), "{bad:?}");
/// ```
pub fn check_schema(schema: &Value, value: &Value) -> Vec<String> {
    validate::validate(schema, schema, value, "body")
}

/// The operation that registers the callback URL.
const SET_CALLBACK: &str = "/login/setCallback";

/// The mock's own API: `POST` an event here and the mock delivers it to the registered callback
/// URL, as GeWe would; it answers `{"delivered": <the callback's HTTP status>}`.
pub const PUSH_PATH: &str = "/mock/callbacks";

/// Where GeWe's cloud mounts the API; the spec's paths are relative to it.
const BASE_PATH: &str = crate::API_PATH;

/// The most a request body may hold. GeWe's requests carry URLs and ids, not files, so anything
/// near this is a client bug; the cap only keeps a runaway client from exhausting memory.
const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// A GeWe mock server on `127.0.0.1`, serving every operation of the merged spec.
///
/// Cheap to clone (one `Arc`); all clones script and inspect the same server, which stops
/// (gracefully: in-flight requests finish) when the last clone is dropped. See the
/// [module documentation](self) for what it checks and answers.
#[derive(Clone)]
pub struct MockServer {
    inner: Arc<Handle>,
}

/// What the clones of a [`MockServer`] share, apart from the server task.
struct Handle {
    core: Arc<Core>,
    addr: SocketAddr,
    /// Dropping the sender (with the last `MockServer` clone) resolves the receiver the server
    /// task waits on, which starts the graceful shutdown; nothing is ever sent on it.
    _shutdown: oneshot::Sender<()>,
}

/// What the request handler and the clones share. The server task holds this, not [`Handle`],
/// so that dropping the last `MockServer` can stop the task.
struct Core {
    spec: &'static Spec,
    token: String,
    state: Mutex<Script>,
    /// The client that delivers callbacks, built once: building one per delivery costs more
    /// than the delivery.
    callbacks: std::sync::OnceLock<reqwest::Client>,
}

/// A path's lasting answer: one reply, or one made from each request's body.
#[derive(Clone)]
enum Sticky {
    Reply(MockReply),
    With(Arc<Responder>),
}

/// Makes a reply from a request's JSON body.
type Responder = dyn Fn(&Value) -> MockReply + Send + Sync;

/// Scripted answers and the record of requests.
#[derive(Default)]
struct Script {
    queued: HashMap<String, VecDeque<MockReply>>,
    sticky: HashMap<String, Sticky>,
    received: Vec<Received>,
    /// The URL the bot registered with `/login/setCallback`, where pushed events go.
    callback_url: Option<String>,
    account: account::Account,
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("base_url", &self.base_url())
            .field("token", &self.token())
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// A [`Client`](crate::Client) for this mock: its base URL and the token it accepts, other
    /// settings at their defaults. Use [`Client::builder`](crate::Client::builder) for others.
    ///
    /// # Errors
    /// None in practice: the mock's URL and token are always valid.
    pub fn client(&self) -> crate::Result<crate::Client> {
        crate::Client::builder()
            .token(self.token())
            .base_url(self.base_url())
            .build()
    }

    /// The callback URL registered with `/login/setCallback`, if any.
    pub fn callback_url(&self) -> Option<String> {
        self.inner.core.script().callback_url.clone()
    }

    /// Delivers a callback event to the URL registered with `/login/setCallback`, as GeWe
    /// does: a `POST` of the JSON. Returns the callback's HTTP status.
    ///
    /// # Errors
    /// [`MockError::NoCallbackUrl`] when no URL is registered, [`MockError::Delivery`] when the
    /// delivery fails.
    pub async fn push_callback(&self, event: &Value) -> Result<u16, MockError> {
        deliver(&self.inner.core, event).await
    }

    /// Starts a server on `127.0.0.1` (a free port) that accepts [`DEFAULT_TOKEN`].
    ///
    /// # Errors
    /// [`MockError::Bind`] when the port cannot be bound, [`MockError::Spec`] (a build bug) when
    /// the embedded spec is not valid JSON.
    ///
    /// # Panics
    /// When called outside a tokio runtime: the server runs as a task on the current one.
    pub async fn start() -> Result<MockServer, MockError> {
        Self::start_with_token(DEFAULT_TOKEN).await
    }

    /// Starts a server on `127.0.0.1` (a free port) that accepts only `token`.
    ///
    /// # Errors
    /// As [`start`](Self::start).
    ///
    /// # Panics
    /// When called outside a tokio runtime: the server runs as a task on the current one.
    pub async fn start_with_token(token: impl Into<String>) -> Result<MockServer, MockError> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), token).await
    }

    /// Starts a server on `addr` that accepts only `token`: a standalone mock for clients in
    /// other processes (`gewe mock --listen ADDR`). Port 0 picks a free port.
    ///
    /// # Errors
    /// As [`start`](Self::start).
    ///
    /// # Panics
    /// When called outside a tokio runtime: the server runs as a task on the current one.
    pub async fn start_on(
        addr: SocketAddr,
        token: impl Into<String>,
    ) -> Result<MockServer, MockError> {
        let spec = spec()?;
        let bind = |source| MockError::Bind { addr, source };
        let listener = TcpListener::bind(addr).await.map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        let core = Arc::new(Core {
            spec,
            token: token.into(),
            state: Mutex::default(),
            callbacks: std::sync::OnceLock::new(),
        });
        let (shutdown, stopped) = oneshot::channel::<()>();
        let app = Router::new().fallback(handle).with_state(Arc::clone(&core));
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            // Err (the sender dropped) is the signal.
            let _ = stopped.await;
        });
        tokio::spawn(async move {
            if let Err(error) = serve.await {
                tracing::warn!(%addr, %error, "gewe mock server stopped with an error");
            }
        });
        tracing::debug!(%addr, "gewe mock server started");
        Ok(MockServer {
            inner: Arc::new(Handle {
                core,
                addr,
                _shutdown: shutdown,
            }),
        })
    }

    /// The base URL to give the client: `http://127.0.0.1:PORT` and [`API_PATH`](crate::API_PATH).
    pub fn base_url(&self) -> String {
        format!("http://{}{BASE_PATH}", self.inner.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The one token the server accepts.
    pub fn token(&self) -> &str {
        &self.inner.core.token
    }

    /// Answers every later request to the operation at `path` with `reply`, replacing an earlier
    /// sticky reply; [enqueued](Self::enqueue) replies still go first. `path` is the operation's
    /// path (`/login/checkLogin`), with or without the [`API_PATH`](crate::API_PATH) prefix.
    ///
    /// # Panics
    /// When `path` is not an operation of the spec: such a reply could never be sent, since the
    /// server answers 404 there, so the test has a typo.
    pub fn respond(&self, path: &str, reply: MockReply) {
        let path = self.known_operation("respond", path);
        self.script().sticky.insert(path, Sticky::Reply(reply));
    }

    /// Answers every later request to the operation at `path` with the reply `responder` makes
    /// from the request's JSON body, replacing an earlier sticky reply or responder;
    /// [enqueued](Self::enqueue) replies still go first. The responder runs only for requests
    /// that passed every check (token, JSON, schema), outside the mock's lock, on the server's
    /// task: keep it quick.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use gewe::mock::{MockReply, MockServer};
    /// use serde_json::json;
    ///
    /// let mock = MockServer::start().await?;
    /// // Echo who the message went to, so that each caller can check it got its own answer.
    /// mock.respond_with("/message/postText", |body| {
    ///     MockReply::ok(Some(json!({"toWxid": body["toWxid"], "newMsgId": 1, "msgId": 1,
    ///                               "createTime": 0, "type": 1})))
    /// });
    /// let device = mock.client()?.device("wx_app");
    /// let sent = device.message().post_text("wxid_friend", "hi").await?;
    /// assert_eq!(sent.to_wxid.as_deref(), Some("wxid_friend"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Panics
    /// When `path` is not an operation of the spec, as in [`respond`](Self::respond).
    pub fn respond_with<F>(&self, path: &str, responder: F)
    where
        F: Fn(&Value) -> MockReply + Send + Sync + 'static,
    {
        let path = self.known_operation("respond_with", path);
        self.script()
            .sticky
            .insert(path, Sticky::With(Arc::new(responder)));
    }

    /// Answers the next request to the operation at `path` with `reply`, once. Replies enqueued
    /// for one path are used in order, before the [sticky](Self::respond) one and the example.
    /// `path` is as in [`respond`](Self::respond).
    ///
    /// # Panics
    /// When `path` is not an operation of the spec, as in [`respond`](Self::respond).
    pub fn enqueue(&self, path: &str, reply: MockReply) {
        let path = self.known_operation("enqueue", path);
        self.script()
            .queued
            .entry(path)
            .or_default()
            .push_back(reply);
    }

    /// Every request received since the start (or the last [`reset`](Self::reset)), in order,
    /// rejected ones included.
    pub fn received(&self) -> Vec<Received> {
        self.script().received.clone()
    }

    /// The requests received for the operation at `path` (with or without the [`API_PATH`](crate::API_PATH)
    /// prefix), in order.
    pub fn received_for(&self, path: &str) -> Vec<Received> {
        let path = operation_path(path);
        self.script()
            .received
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Takes the account offline, as WeChat does after a few days: every call outside
    /// `/login/` answers GeWe's offline error (`ret` 500, `data.msg` 微信已离线) and
    /// `/login/checkOnline` answers `false`, until a `/login/reconnection` (when
    /// [`reconnection_works`](Self::reconnection_works)) or a confirmed re-login
    /// ([`accept_login`](Self::accept_login)) brings it back. No `Offline` callback is sent:
    /// push one with [`push_callback`](Self::push_callback) when the test wants it.
    pub fn go_offline(&self) {
        self.script().account.online = false;
    }

    /// Whether the account is online (it starts online).
    pub fn is_online(&self) -> bool {
        self.script().account.online
    }

    /// Whether `/login/reconnection` brings an offline account back (default `true`); when
    /// not, it answers GeWe's failure and only a re-login helps.
    pub fn reconnection_works(&self, works: bool) {
        self.script().account.reconnection_works = works;
    }

    /// Plays a person confirming the next login on the phone as `wxid`: the next
    /// `/login/getLoginQrCode` answers a QR code for the `appId` it was given (or a new device
    /// when it was empty), and the next `/login/checkLogin` answers logged in and brings the
    /// account online. Call it once per login to confirm.
    pub fn accept_login(&self, wxid: impl Into<String>, nick_name: impl Into<String>) {
        self.script()
            .account
            .logins
            .push_back((wxid.into(), nick_name.into()));
    }

    /// Forgets every scripted reply and every received request.
    pub fn reset(&self) {
        *self.script() = Script::default();
    }

    fn script(&self) -> MutexGuard<'_, Script> {
        self.inner.core.script()
    }

    fn known_operation(&self, method: &str, path: &str) -> String {
        let path = operation_path(path);
        assert!(
            self.inner.core.spec.operations.contains_key(&path),
            "MockServer::{method}: {path} is not an operation of the GeWe spec"
        );
        path
    }
}

impl Core {
    fn script(&self) -> MutexGuard<'_, Script> {
        crate::lock::lock(&self.state)
    }
}

/// An answer scripted with [`MockServer::respond`] or [`MockServer::enqueue`].
#[derive(Clone, Debug)]
pub struct MockReply {
    status: StatusCode,
    content_type: HeaderValue,
    body: Bytes,
    delay: Option<Duration>,
}

impl MockReply {
    /// HTTP 200 with `body` as JSON.
    pub fn json(body: Value) -> Self {
        MockReply {
            status: StatusCode::OK,
            content_type: HeaderValue::from_static("application/json"),
            body: Bytes::from(body.to_string()),
            delay: None,
        }
    }

    /// GeWe's success, HTTP 200 `{"ret":200,"msg":"操作成功"}`, with `"data": data` when given.
    pub fn ok(data: Option<Value>) -> Self {
        Self::envelope(200, json!("操作成功"), data)
    }

    /// A GeWe failure, HTTP 200 `{"ret":ret,"msg":msg}` (`msg` null when `None`), with
    /// `"data": data` when given.
    pub fn failure(ret: i64, msg: Option<&str>, data: Option<Value>) -> Self {
        Self::envelope(ret, json!(msg), data)
    }

    /// Any status, content type and body, e.g. the HTML 502 of a proxy in front of GeWe.
    ///
    /// # Panics
    /// When `status` is not in `100..=999` or `content_type` cannot be a header value: both are
    /// mistakes in the test, not conditions to test.
    pub fn raw(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        let content_type = HeaderValue::from_str(content_type).unwrap_or_else(|_| {
            panic!("MockReply::raw: {content_type:?} cannot be a content-type header value")
        });
        MockReply {
            status: status_code(status),
            content_type,
            body: body.into(),
            delay: None,
        }
    }

    /// The same reply with another HTTP status.
    ///
    /// # Panics
    /// When `status` is not in `100..=999`.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status_code(status);
        self
    }

    /// The same reply, sent `delay` after the request arrived (for timeout tests).
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    fn envelope(ret: i64, msg: Value, data: Option<Value>) -> Self {
        let mut body = json!({"ret": ret, "msg": msg});
        if let (Some(data), Some(map)) = (data, body.as_object_mut()) {
            map.insert("data".into(), data);
        }
        Self::json(body)
    }
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status)
        .unwrap_or_else(|_| panic!("MockReply: {status} is not an HTTP status code"))
}

/// A request the server received.
#[derive(Clone, Debug)]
pub struct Received {
    /// The path relative to [`API_PATH`](crate::API_PATH), e.g. `/group/joinRoomUsingQRCode`;
    /// the full path when the request was not under it.
    pub path: String,
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The `X-GEWE-TOKEN` header, if sent.
    pub token: Option<String>,
    /// The `content-type` header, if sent.
    pub content_type: Option<String>,
    /// The body, or `Null` when it is not JSON.
    pub body: Value,
    /// The body's violations of the operation's request schema (whether or not the request was
    /// rejected for another reason first); empty when it fits the spec, or when the path is not
    /// an operation or the body not JSON.
    pub violations: Vec<String>,
}

/// What the server needs of the spec, parsed once per process.
struct Spec {
    doc: Value,
    operations: HashMap<String, Operation>,
}

/// One operation of the spec.
struct Operation {
    /// The request body's schema (usually a `$ref`); `None` accepts any JSON.
    request: Option<Value>,
    /// The documented success example, as it is sent.
    example: Bytes,
}

fn spec() -> Result<&'static Spec, MockError> {
    static SPEC: OnceLock<Result<Spec, String>> = OnceLock::new();
    SPEC.get_or_init(|| parse_spec(crate::OPENAPI_SPEC))
        .as_ref()
        .map_err(|e| MockError::Spec(e.clone()))
}

fn parse_spec(text: &str) -> Result<Spec, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("it has no `paths` object")?;
    let mut operations = HashMap::new();
    for (path, item) in paths {
        // GeWe's operations are all POST; others, if the spec ever had any, answer 405.
        let Some(post) = item.get("post") else {
            continue;
        };
        let request = post
            .pointer("/requestBody/content/application~1json/schema")
            .cloned();
        operations.insert(
            path.clone(),
            Operation {
                request,
                example: Bytes::from(success_example(post).to_string()),
            },
        );
    }
    Ok(Spec { doc, operations })
}

/// The first example of the `200` response whose `ret` is 200 (or that has no `ret`), else
/// GeWe's bare success.
fn success_example(operation: &Value) -> Value {
    let examples = operation
        .pointer("/responses/200/content/application~1json/examples")
        .and_then(Value::as_object);
    let mut examples: Vec<(&String, &Value)> = examples.into_iter().flatten().collect();
    // The keys are "1", "2", ...; sorted as numbers so that "10" does not come before "2".
    examples.sort_by_key(|(key, _)| (key.parse::<u64>().unwrap_or(u64::MAX), key.as_str()));
    examples
        .into_iter()
        .filter_map(|(_, example)| match example.get("value")? {
            // Some exports hold the example as JSON text; prose around it ("第一步返回 {..}")
            // is no body GeWe sends, so such an example is skipped.
            Value::String(text) => serde_json::from_str::<Value>(text).ok(),
            value => Some(value.clone()),
        })
        .find(|value| value.get("ret").is_none_or(|ret| ret.as_i64() == Some(200)))
        .unwrap_or_else(|| json!({"ret": 200, "msg": "操作成功"}))
}

/// `/login/checkLogin` from `/login/checkLogin`, `login/checkLogin` or
/// the same after [`API_PATH`](crate::API_PATH).
fn operation_path(path: &str) -> String {
    let path = path.trim_start_matches('/');
    let path = path
        .strip_prefix(&BASE_PATH[1..])
        .filter(|rest| rest.starts_with('/'))
        .unwrap_or(path);
    format!("/{}", path.trim_start_matches('/'))
}

/// A header as text, lossily: the record must keep whatever the client sent.
fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// `application/json`, in any case, with or without parameters such as `charset`.
fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
    })
}

/// A JSON `{ret, msg}` answer of the mock itself.
fn answer(status: StatusCode, ret: u16, msg: impl Into<String>) -> Response {
    let body = json!({"ret": ret, "msg": msg.into()}).to_string();
    (status, [(CONTENT_TYPE, "application/json")], body).into_response()
}

/// The one handler, for every path: nothing a client sends may panic it.
async fn handle(State(core): State<Arc<Core>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let full_path = parts.uri.path();
    if full_path == PUSH_PATH && parts.method == Method::POST {
        return push_over_http(&core, body).await;
    }
    let relative = full_path
        .strip_prefix(BASE_PATH)
        .filter(|rest| rest.starts_with('/'));
    let path = relative.unwrap_or(full_path).to_owned();
    let operation = relative.and_then(|r| core.spec.operations.get(r));
    let token = header_text(&parts.headers, crate::TOKEN_HEADER);
    let content_type = header_text(&parts.headers, CONTENT_TYPE.as_str());

    let bytes = axum::body::to_bytes(body, MAX_REQUEST_BYTES).await;
    let parsed = match &bytes {
        Ok(bytes) => serde_json::from_slice::<Value>(bytes).map_err(|e| e.to_string()),
        Err(e) => Err(format!("cannot read it: {e}")),
    };
    // Validated before the other checks so the record tells a test whether the body fits even
    // when the token was wrong; cheap, and pure.
    let violations = match (operation, &parsed) {
        (
            Some(Operation {
                request: Some(schema),
                ..
            }),
            Ok(value),
        ) => validate::validate(&core.spec.doc, schema, value, "body"),
        _ => Vec::new(),
    };
    tracing::debug!(method = %parts.method, %path, violations = violations.len(), "gewe mock request");

    // 1. Record it, whatever follows.
    core.script().received.push(Received {
        path: path.clone(),
        method: parts.method.as_str().to_owned(),
        token: token.clone(),
        content_type: content_type.clone(),
        body: parsed.as_ref().map_or(Value::Null, Clone::clone),
        violations: violations.clone(),
    });

    // 2. Only the spec's operations, only POST.
    let Some(operation) = operation else {
        return answer(
            StatusCode::NOT_FOUND,
            404,
            format!("mock: {path} is not an operation of the GeWe spec"),
        );
    };
    if parts.method != Method::POST {
        let mut response = answer(
            StatusCode::METHOD_NOT_ALLOWED,
            405,
            format!(
                "mock: {} {path} is not an operation of the GeWe spec, only POST is",
                parts.method
            ),
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }

    // 3. The token, with GeWe's own texts and HTTP 200, as GeWe answers.
    match token.as_deref() {
        // A blank header is as good as none to GeWe.
        None => return answer(StatusCode::OK, 500, "header:X-GEWE-TOKEN 不可为空"),
        Some(sent) if sent.trim().is_empty() => {
            return answer(StatusCode::OK, 500, "header:X-GEWE-TOKEN 不可为空")
        }
        Some(sent) if sent != core.token => {
            return answer(
                StatusCode::OK,
                500,
                format!("HTTP HEADER: X-GEWE-TOKEN={sent} 不可用或已过期"),
            )
        }
        Some(_) => {}
    }

    // 4. A JSON body.
    if !is_json(content_type.as_deref()) {
        return answer(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            415,
            "mock: content-type must be application/json",
        );
    }
    if let Err(error) = &parsed {
        return answer(
            StatusCode::BAD_REQUEST,
            400,
            format!("mock: body is not JSON: {error}"),
        );
    }

    // 5. A body that fits the spec.
    if !violations.is_empty() {
        return answer(
            StatusCode::UNPROCESSABLE_ENTITY,
            422,
            format!(
                "mock: request does not match the spec: {}",
                violations.join("; ")
            ),
        );
    }

    // GeWe keeps one callback URL per token; the mock delivers pushed events there.
    if path == SET_CALLBACK {
        if let Some(url) = parsed
            .as_ref()
            .ok()
            .and_then(|b| b.get("callbackUrl"))
            .and_then(Value::as_str)
        {
            core.script().callback_url = Some(url.to_owned());
        }
    }

    // 6. The account's own answer (offline, login, reconnection), the scripted answer, else
    //    the example.
    let scripted = {
        let mut script = core.script();
        let body = parsed.as_ref().unwrap_or(&Value::Null);
        match script.account.answer(&path, body) {
            Some(reply) => Some(Sticky::Reply(reply)),
            None => {
                let queued = script.queued.get_mut(&path).and_then(VecDeque::pop_front);
                match queued {
                    Some(reply) => Some(Sticky::Reply(reply)),
                    None => script.sticky.get(&path).cloned(),
                }
            }
        }
    };
    // The lock is released: a responder may take its time or call the mock.
    let scripted = scripted.map(|sticky| match sticky {
        Sticky::Reply(reply) => reply,
        Sticky::With(responder) => {
            let body = parsed.as_ref().unwrap_or(&Value::Null);
            responder(body)
        }
    });
    let reply = scripted.unwrap_or_else(|| MockReply {
        status: StatusCode::OK,
        content_type: HeaderValue::from_static("application/json"),
        body: operation.example.clone(),
        delay: None,
    });
    if let Some(delay) = reply.delay {
        tokio::time::sleep(delay).await;
    }
    (
        reply.status,
        [(CONTENT_TYPE, reply.content_type)],
        Body::from(reply.body),
    )
        .into_response()
}

/// POSTs `event` to the registered callback URL.
async fn deliver(core: &Core, event: &Value) -> Result<u16, MockError> {
    let url = core
        .script()
        .callback_url
        .clone()
        .ok_or(MockError::NoCallbackUrl)?;
    crate::install_tls_provider();
    let failed = |source| MockError::Delivery {
        url: url.clone(),
        source,
    };
    let client = match core.callbacks.get() {
        Some(client) => client.clone(),
        None => {
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .map_err(failed)?;
            core.callbacks.get_or_init(|| client).clone()
        }
    };
    let response = client.post(&url).json(event).send().await.map_err(failed)?;
    Ok(response.status().as_u16())
}

async fn push_over_http(core: &Core, body: Body) -> Response {
    let event = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => v,
            Err(e) => {
                return answer(
                    StatusCode::BAD_REQUEST,
                    400,
                    format!("mock: event is not JSON: {e}"),
                )
            }
        },
        Err(e) => {
            return answer(
                StatusCode::BAD_REQUEST,
                400,
                format!("mock: cannot read the event: {e}"),
            )
        }
    };
    match deliver(core, &event).await {
        Ok(status) => axum::Json(serde_json::json!({ "delivered": status })).into_response(),
        Err(e) => {
            // The answer is the whole story: the error and its cause, if any.
            let cause = std::error::Error::source(&e).map(|c| format!(": {c}"));
            answer(
                StatusCode::BAD_GATEWAY,
                502,
                format!("mock: delivery failed: {e}{}", cause.unwrap_or_default()),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOIN: &str = "/group/joinRoomUsingQRCode";

    fn http() -> reqwest::Client {
        // reqwest is built without a default rustls provider; plain http needs none, but the
        // builder may still look for one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder().build().expect("an HTTP client")
    }

    async fn post(mock: &MockServer, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
        let mut request = http()
            .post(format!("{}{path}", mock.base_url()))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(token) = token {
            request = request.header("X-GEWE-TOKEN", token);
        }
        let response = request.send().await.expect("the mock answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).expect("a JSON body"))
    }

    #[test]
    fn every_operation_has_a_json_example() {
        let spec = spec().expect("the embedded spec parses");
        assert!(spec.operations.len() > 100);
        for (path, op) in &spec.operations {
            let example: Value = serde_json::from_slice(&op.example).expect("JSON");
            assert_eq!(
                example.get("ret").and_then(Value::as_i64),
                Some(200),
                "{path}"
            );
            assert!(op.request.is_some(), "{path}");
        }
    }

    #[test]
    fn paths_normalize() {
        assert_eq!(operation_path("/login/checkLogin"), "/login/checkLogin");
        assert_eq!(operation_path("login/checkLogin"), "/login/checkLogin");
        assert_eq!(
            operation_path(&format!("{BASE_PATH}/login/checkLogin")),
            "/login/checkLogin"
        );
        let glued = format!("{BASE_PATH}foo");
        assert_eq!(operation_path(&glued), glued);
    }

    #[tokio::test]
    async fn answers_the_documented_example_and_records() {
        let mock = MockServer::start().await.expect("started");
        let body = r#"{"appId":"x","qrUrl":"y"}"#;
        let (status, answer) = post(&mock, JOIN, Some(DEFAULT_TOKEN), body).await;
        assert_eq!(status, 200);
        assert_eq!(answer["ret"], 200);
        assert_eq!(answer["data"]["chatroomId"], "34559815390@chatroom");

        let received = mock.received();
        assert_eq!(received.len(), 1);
        let r = &received[0];
        assert_eq!(r.path, JOIN);
        assert_eq!(r.method, "POST");
        assert_eq!(r.token.as_deref(), Some(DEFAULT_TOKEN));
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        assert_eq!(r.body, json!({"appId": "x", "qrUrl": "y"}));
        assert!(r.violations.is_empty());
        assert_eq!(mock.received_for(&format!("{BASE_PATH}{JOIN}")).len(), 1);
        assert!(mock.received_for("/login/checkLogin").is_empty());
    }

    #[tokio::test]
    async fn rejects_a_body_that_breaks_the_schema() {
        let mock = MockServer::start().await.expect("started");
        let (status, answer) = post(
            &mock,
            JOIN,
            Some(DEFAULT_TOKEN),
            r#"{"appId":"x","qrUrl":5}"#,
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(answer["ret"], 422);
        assert_eq!(
            answer["msg"],
            "mock: request does not match the spec: body.qrUrl: expected string, found integer"
        );
        let received = mock.received();
        assert_eq!(
            received[0].violations,
            ["body.qrUrl: expected string, found integer"]
        );
    }

    #[tokio::test]
    async fn rejects_paths_tokens_and_bodies_in_order() {
        let mock = MockServer::start_with_token("secret")
            .await
            .expect("started");
        let ok_body = r#"{"appId":"x","qrUrl":"y"}"#;

        let (status, answer) = post(&mock, "/group/nope", Some("secret"), ok_body).await;
        assert_eq!(status, 404);
        assert_eq!(
            answer["msg"],
            "mock: /group/nope is not an operation of the GeWe spec"
        );

        let (status, answer) = post(&mock, JOIN, None, ok_body).await;
        assert_eq!((status, &answer["ret"]), (200, &json!(500)));
        assert_eq!(answer["msg"], "header:X-GEWE-TOKEN 不可为空");

        let (status, answer) = post(&mock, JOIN, Some("stale"), ok_body).await;
        assert_eq!((status, &answer["ret"]), (200, &json!(500)));
        assert_eq!(
            answer["msg"],
            "HTTP HEADER: X-GEWE-TOKEN=stale 不可用或已过期"
        );

        let (status, answer) = post(&mock, JOIN, Some("secret"), "{not json").await;
        assert_eq!((status, &answer["ret"]), (400, &json!(400)));
        assert!(answer["msg"]
            .as_str()
            .is_some_and(|m| m.starts_with("mock: body is not JSON: ")));

        let response = http()
            .get(format!("{}{JOIN}", mock.base_url()))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 405);

        let response = http()
            .post(format!("{}{JOIN}", mock.base_url()))
            .header("X-GEWE-TOKEN", "secret")
            .header("content-type", "text/plain")
            .body(ok_body)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 415);

        let paths: Vec<String> = mock.received().into_iter().map(|r| r.path).collect();
        assert_eq!(paths, ["/group/nope", JOIN, JOIN, JOIN, JOIN, JOIN]);
        assert_eq!(mock.received()[3].body, Value::Null);
    }

    #[tokio::test]
    async fn scripted_replies_queue_then_stick_then_reset() {
        let mock = MockServer::start().await.expect("started");
        let body = r#"{"appId":"x","qrUrl":"y"}"#;
        mock.respond(JOIN, MockReply::ok(Some(json!({"chatroomId": "sticky"}))));
        mock.enqueue(JOIN, MockReply::failure(500, Some("群已满"), None));
        mock.enqueue(
            &format!("{BASE_PATH}{JOIN}"),
            MockReply::raw(502, "text/html", "<html>bad gateway</html>"),
        );

        let (status, answer) = post(&mock, JOIN, Some(DEFAULT_TOKEN), body).await;
        assert_eq!(
            (status, answer),
            (200, json!({"ret": 500, "msg": "群已满"}))
        );

        let response = http()
            .post(format!("{}{JOIN}", mock.base_url()))
            .header("X-GEWE-TOKEN", DEFAULT_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 502);
        assert_eq!(
            response.headers().get("content-type").map(|v| v.as_bytes()),
            Some(&b"text/html"[..])
        );

        for _ in 0..2 {
            let (_, answer) = post(&mock, JOIN, Some(DEFAULT_TOKEN), body).await;
            assert_eq!(answer["data"]["chatroomId"], "sticky");
        }

        mock.reset();
        assert!(mock.received().is_empty());
        let (_, answer) = post(&mock, JOIN, Some(DEFAULT_TOKEN), body).await;
        assert_eq!(answer["data"]["chatroomId"], "34559815390@chatroom");
    }

    #[tokio::test]
    async fn delays_and_stops_when_dropped() {
        let mock = MockServer::start().await.expect("started");
        mock.enqueue(
            JOIN,
            MockReply::ok(None).with_delay(Duration::from_millis(300)),
        );
        // As in `http()`: without a provider installed first, this test fails when it runs
        // before every other test of the binary.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(100))
            .build()
            .expect("client");
        let timed_out = client
            .post(format!("{}{JOIN}", mock.base_url()))
            .header("X-GEWE-TOKEN", DEFAULT_TOKEN)
            .header("content-type", "application/json")
            .body(r#"{"appId":"x","qrUrl":"y"}"#)
            .send()
            .await;
        assert!(timed_out.is_err_and(|e| e.is_timeout()));

        let addr = mock.addr();
        let clone = mock.clone();
        drop(mock);
        assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
        drop(clone);
        // The listener closes once the server task sees the shutdown.
        let mut closed = false;
        for _ in 0..50 {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                closed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            closed,
            "the server still listens after the last clone dropped"
        );
    }

    #[test]
    #[should_panic(expected = "is not an operation of the GeWe spec")]
    fn scripting_an_unknown_path_panics() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mock = runtime.block_on(MockServer::start()).expect("started");
        mock.respond("/login/chekLogin", MockReply::ok(None));
    }
}
