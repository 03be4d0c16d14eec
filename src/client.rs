//! The handwritten part of the client: configuration, the token header, and GeWe's envelope.

use crate::envelope;
use crate::error::{ConfigError, Error, Result, TransportError};
use crate::generated;
use crate::retry::RetryPolicy;
use crate::token::Token;
use bytes::Bytes;
use progenitor_client::{ByteStream, ClientInfo, OperationInfo, ResponseValue};
use reqwest::header::{HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use crate::api_path::{API_PATH, DEFAULT_BASE_URL, SELF_HOSTED_API_PATH};
/// The header GeWe reads the token from.
pub const TOKEN_HEADER: &str = "X-GEWE-TOKEN";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// A GeWe API client.
///
/// Cheap to clone (one `Arc`); every clone shares one connection pool. Calls go through a
/// [`Device`](crate::Device) (`client.device(app_id)`), or through the struct methods, one per
/// operation, which take the request as data. Either returns the typed `data` when
/// `ret == 200`, and an [`Error`] otherwise.
///
/// ```no_run
/// # async fn run() -> gewe::Result<()> {
/// let client = gewe::Client::new("my-gewe-token")?;
/// let room = client
///     .device("wx_app_id")
///     .group()
///     .join_room_using_qr_code("https://weixin.qq.com/g/AwYAAL...")
///     .await?;
/// println!("{:?}", room.chatroom_id);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    raw: Arc<generated::Client>,
}

/// What the generated client carries for the hooks.
#[derive(Clone)]
pub(crate) struct ClientState {
    token: Token,
    token_header: HeaderValue,
    timeout: Option<Duration>,
    pub(crate) max_response_bytes: usize,
    retry: Option<RetryPolicy>,
    /// Set when the token would cross the network in clear text.
    plain_http: Option<Arc<PlainHttp>>,
}

/// A base URL that sends the token over plain HTTP to a host off this machine and network.
#[derive(Debug)]
struct PlainHttp {
    host: String,
    warned: AtomicBool,
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientState")
            .field("token", &self.token)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .finish()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.raw.inner();
        f.debug_struct("Client")
            .field("base_url", &self.raw.baseurl())
            .field("token", &state.token)
            .field("timeout", &state.timeout)
            .field("max_response_bytes", &state.max_response_bytes)
            .field("retry", &state.retry)
            .finish()
    }
}

impl Client {
    /// A client for GeWe's cloud with the given token and default settings.
    pub fn new(token: impl Into<String>) -> Result<Self> {
        Self::builder().token(token).build()
    }

    /// A builder for every setting.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL every operation path is appended to.
    pub fn base_url(&self) -> &str {
        self.raw.baseurl()
    }

    /// Registers the URL GeWe POSTs callbacks to (`/login/setCallback`), filling in the body's
    /// `token` with this client's own token.
    ///
    /// A token has one callback URL: registering one replaces the URL of every bot on the token.
    pub async fn set_callback(&self, callback_url: impl Into<String>) -> Result<()> {
        let body = crate::types::LoginSetCallbackRequest {
            callback_url: callback_url.into(),
            token: self.token().expose().to_string(),
        };
        self.login_set_callback(&body).await
    }

    pub(crate) fn raw(&self) -> &generated::Client {
        &self.raw
    }

    pub(crate) fn token(&self) -> &Token {
        &self.raw.inner().token
    }

    /// Runs one generated call and decodes GeWe's envelope into `D`. `call` makes the request;
    /// it is called again only for a connect error under the [`RetryPolicy`].
    pub(crate) async fn execute<D, C, F>(
        &self,
        op: &'static crate::dispatch::Operation,
        call: C,
    ) -> Result<D>
    where
        D: DeserializeOwned,
        C: Fn() -> F,
        F: Future<Output = Result<ResponseValue<ByteStream>, progenitor_client::Error<ByteStream>>>,
    {
        self.execute_full(op, call).await.map(|(d, _)| d)
    }

    /// Like [`Client::execute`], also keeping the raw body.
    pub(crate) async fn execute_full<D, C, F>(
        &self,
        op: &'static crate::dispatch::Operation,
        call: C,
    ) -> Result<(D, Bytes)>
    where
        D: DeserializeOwned,
        C: Fn() -> F,
        F: Future<Output = Result<ResponseValue<ByteStream>, progenitor_client::Error<ByteStream>>>,
    {
        let started = std::time::Instant::now();
        let result = async {
            let state = self.raw.inner();
            let limit = state.max_response_bytes;
            let mut attempt = 0u32;
            let response = loop {
                match call().await {
                    Ok(rv) | Err(progenitor_client::Error::ErrorResponse(rv)) => break rv,
                    // Only a connect error proves the request was never sent.
                    Err(progenitor_client::Error::CommunicationError(e))
                        if state.retry.as_ref().is_some_and(|r| r.allows(attempt, &e)) =>
                    {
                        let wait = state
                            .retry
                            .as_ref()
                            .map_or(Duration::ZERO, |r| r.backoff(attempt));
                        attempt += 1;
                        tracing::debug!(
                            operation = op.path,
                            attempt,
                            wait_ms = wait.as_millis() as u64,
                            error = %e,
                            "gewe call could not connect; retrying"
                        );
                        tokio::time::sleep(wait).await;
                    }
                    Err(e) => return Err(self.map_call_error(op, e)),
                }
            };
            let status = response.status();
            let body = envelope::read_body(op.path, response, limit).await?;
            let data = envelope::decode::<D>(op.path, status, &body, self.token())?;
            Ok((data, body))
        }
        .await;
        match &result {
            Ok(_) => tracing::debug!(
                operation = op.path,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "gewe call ok"
            ),
            Err(e) => tracing::debug!(operation = op.path, error = %e, "gewe call failed"),
        }
        result
    }

    fn map_call_error(
        &self,
        op: &'static crate::dispatch::Operation,
        e: progenitor_client::Error<ByteStream>,
    ) -> Error {
        use progenitor_client::Error as P;
        match e {
            P::CommunicationError(source)
            | P::ResponseBodyError(source)
            | P::InvalidUpgrade(source) => Error::Transport(Box::new(TransportError {
                operation: op.path.to_owned(),
                source,
            })),
            P::InvalidRequest(reason) | P::Custom(reason) => {
                Error::InvalidRequest(Box::new(crate::error::InvalidRequestError {
                    operation: op.path.to_string(),
                    reason: self.token().mask(&reason),
                    source: None,
                }))
            }
            P::InvalidResponsePayload(body, source) => {
                Error::Decode(Box::new(crate::error::DecodeError {
                    operation: op.path.to_owned(),
                    reason: "invalid payload".into(),
                    snippet: envelope::snippet(&body, self.token()),
                    source: Some(crate::error::Cause(self.token().mask(&source.to_string()))),
                }))
            }
            // Every response is declared as a raw body, so progenitor never returns these two
            // (and `execute_full` takes an ErrorResponse's body itself); were one to come, GeWe
            // answered, so it is a status error, whose `may_have_reached_server()` is true.
            P::ErrorResponse(rv) => status_error(op, rv.status()),
            P::UnexpectedResponse(response) => status_error(op, response.status()),
        }
    }
}

/// GeWe's answer had a status the client did not read a body for.
fn status_error(op: &crate::dispatch::Operation, status: reqwest::StatusCode) -> Error {
    Error::Status(Box::new(crate::error::StatusError {
        operation: op.path.to_owned(),
        status,
        snippet: String::new(),
        envelope: None,
    }))
}

impl progenitor_client::ClientHooks<ClientState> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> std::result::Result<(), progenitor_client::Error<E>> {
        let state = self.inner();
        // The generated methods send no header of their own (the build removes progenitor's
        // `api-version`): the token is the one header GeWe documents.
        request.headers_mut().insert(
            HeaderName::from_static("x-gewe-token"),
            state.token_header.clone(),
        );
        if let Some(plain) = &state.plain_http {
            if !plain.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    host = %plain.host,
                    "the GeWe token is sent over plain HTTP to {}, readable on the way: use an https:// base URL",
                    plain.host
                );
            }
        }
        if let Some(timeout) = state.timeout {
            *request.timeout_mut() = Some(timeout);
        }
        Ok(())
    }
}

/// Builds a [`Client`].
///
/// ```
/// let client = gewe::Client::builder()
///     .token("my-gewe-token")
///     .base_url("http://127.0.0.1:2531/v2/api")
///     .timeout(std::time::Duration::from_secs(10))
///     .build()
///     .unwrap();
/// assert_eq!(client.base_url(), "http://127.0.0.1:2531/v2/api");
/// ```
#[derive(Default)]
pub struct ClientBuilder {
    token: Option<String>,
    base_url: Option<String>,
    timeout: Option<Option<Duration>>,
    http: Option<reqwest::Client>,
    max_response_bytes: Option<usize>,
    retry: Option<RetryPolicy>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The GeWe token (`X-GEWE-TOKEN`). Required.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The base URL; default [`DEFAULT_BASE_URL`]. Operation paths such as
    /// `/group/joinRoomUsingQRCode` are appended to it.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The timeout of one attempt, from sending the request to the end of the answer's body;
    /// default 60 s. `None` turns it off. With a [`retry`](Self::retry) policy each attempt has
    /// its own.
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = Some(timeout.into());
        self
    }

    /// Your own `reqwest::Client`, for proxies, TLS roots or a shared pool.
    ///
    /// This crate builds reqwest's rustls without a default crypto provider (ring is ours, to
    /// avoid aws-lc-sys's C build): call [`install_tls_provider`](crate::install_tls_provider)
    /// before building your `reqwest::Client`, or reqwest panics when it is built.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The largest response body accepted, enforced while it streams in; default 32 MiB.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// Retries calls that could not connect, with backoff and jitter; default: no retry.
    ///
    /// Only connect errors are retried, since only they prove that GeWe never saw the request.
    /// A call that may have reached GeWe is never sent again: GeWe's sends are not idempotent.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client> {
        let token = self
            .token
            .ok_or_else(|| config("no token: set it with .token(..) (GeWe console → token)"))?;
        if token.trim().is_empty() {
            return Err(config("the token is empty").into());
        }
        let mut token_header = HeaderValue::from_str(&token).map_err(|_| {
            config(
                "the token cannot be an HTTP header: it contains control or non-ASCII characters",
            )
        })?;
        token_header.set_sensitive(true);
        let base_url = self
            .base_url
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        let parsed = reqwest::Url::parse(&base_url)
            .map_err(|e| config(format!("base URL `{base_url}` is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(config(format!(
                "base URL `{base_url}` must be http(s)://host[:port]/path"
            ))
            .into());
        }
        let plain_http = plain_http_host(&parsed).map(|host| {
            Arc::new(PlainHttp {
                host,
                warned: AtomicBool::new(false),
            })
        });
        let base_url = base_url.trim_end_matches('/').to_string();
        let http = match self.http {
            Some(http) => http,
            None => {
                install_tls_provider();
                reqwest::Client::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .build()
                    .map_err(|e| config(format!("cannot build the HTTP client: {e}")))?
            }
        };
        let state = ClientState {
            token: Token::new(token),
            token_header,
            timeout: self.timeout.unwrap_or(Some(DEFAULT_TIMEOUT)),
            max_response_bytes: self
                .max_response_bytes
                .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
            retry: self.retry,
            plain_http,
        };
        Ok(Client {
            raw: Arc::new(generated::Client::new_with_client(&base_url, http, state)),
        })
    }
}

/// Installs ring as the process's rustls crypto provider, unless one is installed already.
///
/// [`ClientBuilder::build`] does this itself; call it before building your own
/// `reqwest::Client` for [`ClientBuilder::http_client`].
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The host of a plain-HTTP base URL that is neither loopback nor a private, shared or
/// link-local address, nor a name without a dot (a docker-compose service such as `gewechat`,
/// or a host of the local network): the token would cross networks in clear text. A
/// self-hosted gewechat on the same machine or network is fine.
fn plain_http_host(url: &reqwest::Url) -> Option<String> {
    if url.scheme() != "http" {
        return None;
    }
    let host = url.host_str()?;
    // IPv6 hosts come in brackets (`[::1]`).
    let local = match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => is_local(ip),
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            !name.contains('.') || name.ends_with(".localhost") || name.ends_with(".local")
        }
    };
    (!local).then(|| host.to_string())
}

fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => {
            // 100.64.0.0/10: carrier-grade NAT and overlay networks (Tailscale), not the internet.
            let shared = ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64;
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || shared
        }
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => is_local(IpAddr::V4(v4)),
            None => ip.is_loopback() || is_unique_local(ip) || is_unicast_link_local(ip),
        },
    }
}

/// `fc00::/7`, IPv6's private range.
fn is_unique_local(ip: Ipv6Addr) -> bool {
    ip.segments()[0] & 0xfe00 == 0xfc00
}

/// `fe80::/10`.
fn is_unicast_link_local(ip: Ipv6Addr) -> bool {
    ip.segments()[0] & 0xffc0 == 0xfe80
}

fn config(reason: impl Into<String>) -> ConfigError {
    ConfigError {
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::plain_http_host;

    fn host(url: &str) -> Option<String> {
        plain_http_host(&reqwest::Url::parse(url).unwrap())
    }

    #[test]
    fn only_plain_http_off_this_machine_and_network_is_flagged() {
        for url in [
            "https://api.geweapi.com/gewe/v2/api",
            "http://127.0.0.1:2531/v2/api",
            "http://localhost:2531/v2/api",
            "http://gewe.localhost/v2/api",
            "http://10.0.0.5:2531/v2/api",
            "http://172.16.3.4/v2/api",
            "http://192.168.1.20:2531/v2/api",
            "http://169.254.1.1/v2/api",
            "http://[::1]:2531/v2/api",
            "http://[fd00::5]/v2/api",
            "http://[fe80::1]/v2/api",
            "http://[::ffff:192.168.1.2]/v2/api",
            "http://gewechat:2531/v2/api",
            "http://nas.local:2531/v2/api",
            "http://100.101.102.103:2531/v2/api",
            "http://0.0.0.0:2531/v2/api",
        ] {
            assert_eq!(host(url), None, "{url}");
        }
        assert_eq!(
            host("http://api.geweapi.com/gewe/v2/api").as_deref(),
            Some("api.geweapi.com")
        );
        assert_eq!(
            host("http://8.8.8.8:2531/v2/api").as_deref(),
            Some("8.8.8.8")
        );
        assert_eq!(
            host("http://172.32.0.1/v2/api").as_deref(),
            Some("172.32.0.1")
        );
        assert_eq!(
            host("http://100.128.0.1/v2/api").as_deref(),
            Some("100.128.0.1")
        );
        assert_eq!(
            host("http://[2001:db8::1]/v2/api").as_deref(),
            Some("[2001:db8::1]")
        );
    }
}
