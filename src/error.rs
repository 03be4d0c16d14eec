//! The one error type of the crate.

use reqwest::StatusCode;
use serde_json::Value;
use std::fmt;

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong calling GeWe.
///
/// Every variant names the operation (its path, such as `/group/joinRoomUsingQRCode`). Text that
/// came from GeWe (`msg`, `data`, body snippets) has the client's own token masked, because
/// GeWe's rejection message repeats the token it was sent.
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// GeWe answered with its envelope and `ret != 200`, at any HTTP status.
    Api(Box<ApiError>),
    /// An HTTP status outside 2xx whose body is not a GeWe failure envelope.
    Status(Box<StatusError>),
    /// `ret` was 200 but `data` does not fit the documented type, or the body is not JSON.
    Decode(Box<DecodeError>),
    /// The request got no complete answer: connect failure, reset, or timeout.
    Transport(Box<TransportError>),
    /// The response body is larger than the client's limit (see
    /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)).
    ResponseTooLarge(Box<ResponseTooLargeError>),
    /// The request was refused on the client side; nothing was sent.
    InvalidRequest(Box<InvalidRequestError>),
    /// The client is misconfigured: a bad base URL or a token that cannot be a header.
    Config(ConfigError),
    /// The bot runtime could not start, or refused a send: see
    /// [`BotError`](crate::bot::BotError).
    #[cfg(feature = "bot")]
    Bot(Box<crate::bot::BotError>),
}

impl Error {
    /// The operation's path, when the error belongs to a call.
    pub fn operation(&self) -> Option<&str> {
        match self {
            Error::Api(e) => Some(&e.operation),
            Error::Status(e) => Some(&e.operation),
            Error::Decode(e) => Some(&e.operation),
            Error::Transport(e) => Some(&e.operation),
            Error::ResponseTooLarge(e) => Some(&e.operation),
            Error::InvalidRequest(e) => Some(&e.operation),
            Error::Config(_) => None,
            #[cfg(feature = "bot")]
            Error::Bot(_) => None,
        }
    }

    /// The bot's error, when the bot runtime failed or refused a send.
    #[cfg(feature = "bot")]
    pub fn as_bot(&self) -> Option<&crate::bot::BotError> {
        match self {
            Error::Bot(e) => Some(e),
            _ => None,
        }
    }

    /// The API error, when GeWe answered `ret != 200`.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            Error::Status(e) => e.envelope.as_deref(),
            _ => None,
        }
    }

    /// GeWe's `ret`, when it answered with an envelope.
    pub fn ret(&self) -> Option<i64> {
        self.as_api().map(|e| e.ret)
    }

    /// Whether GeWe rejected the `X-GEWE-TOKEN` (missing, invalid or expired).
    pub fn is_token_rejected(&self) -> bool {
        self.as_api().is_some_and(ApiError::is_token_rejected)
    }

    /// Whether the request timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Transport(e) if e.is_timeout())
    }

    /// Whether the request may have reached GeWe: `true` whenever it was sent, `false` only
    /// when it was refused before sending ([`Error::InvalidRequest`], [`Error::Config`]) or
    /// could not connect. A call that may have reached GeWe is never retried automatically,
    /// since GeWe's sends are not idempotent; only one that could not connect is, and only
    /// under a [`RetryPolicy`](crate::RetryPolicy).
    pub fn may_have_reached_server(&self) -> bool {
        match self {
            Error::Transport(e) => !e.source.is_connect(),
            Error::InvalidRequest(_) | Error::Config(_) => false,
            #[cfg(feature = "bot")]
            Error::Bot(e) => e.may_have_reached_server(),
            _ => true,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(e) => e.fmt(f),
            Error::Status(e) => e.fmt(f),
            Error::Decode(e) => e.fmt(f),
            Error::Transport(e) => e.fmt(f),
            Error::ResponseTooLarge(e) => e.fmt(f),
            Error::InvalidRequest(e) => e.fmt(f),
            Error::Config(e) => e.fmt(f),
            #[cfg(feature = "bot")]
            Error::Bot(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Decode(e) => e.source.as_ref().map(|s| s as _),
            Error::Transport(e) => Some(&e.source),
            Error::InvalidRequest(e) => e.source.as_ref().map(|s| s as _),
            #[cfg(feature = "bot")]
            Error::Bot(e) => e.source(),
            _ => None,
        }
    }
}

/// GeWe answered `ret != 200`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// The operation's path.
    pub operation: String,
    /// The HTTP status it came with (GeWe usually sends 200, some endpoints 500).
    pub status: StatusCode,
    /// The envelope's `ret`.
    pub ret: i64,
    /// The envelope's `msg`, when not null.
    pub msg: Option<String>,
    /// WeChat's status code from `data.code`, a string such as `"-4"`.
    pub code: Option<String>,
    /// WeChat's reason from `data.msg`.
    pub detail: Option<String>,
    /// The raw `data`, whatever its shape; `None` when absent, `null`, or beyond what a
    /// [`Value`] holds (a number past `f64`'s range), in which case `code` and `detail` are
    /// still read.
    pub data: Option<Value>,
}

impl ApiError {
    /// Whether GeWe rejected the token (`msg` mentions `X-GEWE-TOKEN`).
    pub fn is_token_rejected(&self) -> bool {
        self.msg
            .as_deref()
            .is_some_and(|m| m.contains("X-GEWE-TOKEN"))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: GeWe returned ret {}", self.operation, self.ret)?;
        match &self.msg {
            Some(m) => write!(f, ": {m}")?,
            None => write!(f, " with no msg")?,
        }
        match (&self.code, &self.detail) {
            (Some(c), Some(d)) => write!(f, " (code {c}: {d})")?,
            (Some(c), None) => write!(f, " (code {c})")?,
            (None, Some(d)) => write!(f, " ({d})")?,
            (None, None) => {}
        }
        if self.status != StatusCode::OK {
            write!(f, " [HTTP {}]", self.status.as_u16())?;
        }
        if self.is_token_rejected() {
            write!(f, "; check X-GEWE-TOKEN in the GeWe console")?;
        }
        Ok(())
    }
}

/// An HTTP status outside 2xx.
#[derive(Debug)]
#[non_exhaustive]
pub struct StatusError {
    /// The operation's path.
    pub operation: String,
    /// The status.
    pub status: StatusCode,
    /// The start of the body, lossily decoded.
    pub snippet: String,
    /// The envelope, when the body was one (with `ret == 200`, oddly).
    pub envelope: Option<Box<ApiError>>,
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: HTTP {}", self.operation, self.status)?;
        if !self.snippet.is_empty() {
            write!(f, ", body: {}", self.snippet)?;
        }
        Ok(())
    }
}

/// The body could not be decoded.
#[derive(Debug)]
#[non_exhaustive]
pub struct DecodeError {
    /// The operation's path.
    pub operation: String,
    /// What was wrong, in words.
    pub reason: String,
    /// The start of the raw body, lossily decoded.
    pub snippet: String,
    /// What serde said, when it said something.
    pub source: Option<Cause>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // serde's message is the `source()`, not repeated here.
        write!(
            f,
            "{}: cannot decode the response: {}",
            self.operation, self.reason
        )?;
        if !self.snippet.is_empty() {
            write!(f, "; body: {}", self.snippet)?;
        }
        Ok(())
    }
}

/// The request got no complete answer.
#[derive(Debug)]
#[non_exhaustive]
pub struct TransportError {
    /// The operation's path.
    pub operation: String,
    /// reqwest's error.
    pub source: reqwest::Error,
}

impl TransportError {
    /// Whether it timed out.
    pub fn is_timeout(&self) -> bool {
        self.source.is_timeout()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.source.is_timeout() {
            "request timed out"
        } else if self.source.is_connect() {
            "cannot connect to GeWe"
        } else {
            "request failed"
        };
        write!(f, "{}: {what}", self.operation)
    }
}

/// The response body was larger than the client's limit; reading stopped there.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseTooLargeError {
    /// The operation's path.
    pub operation: String,
    /// The limit in bytes.
    pub limit: usize,
}

impl fmt::Display for ResponseTooLargeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: response body exceeds the {}-byte limit; raise it with max_response_bytes",
            self.operation, self.limit
        )
    }
}

/// The request was refused before anything was sent.
#[derive(Debug)]
#[non_exhaustive]
pub struct InvalidRequestError {
    /// The operation's path, or the path asked for.
    pub operation: String,
    /// What was wrong, naming the field.
    pub reason: String,
    /// What caused it, when something underneath did and the reason does not say it already.
    pub source: Option<Cause>,
}

impl fmt::Display for InvalidRequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: invalid request, nothing was sent: {}",
            self.operation, self.reason
        )
    }
}

/// serde's message, with the client's token masked: serde quotes the values it rejects, and a
/// body GeWe sends back may hold the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause(pub(crate) String);

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Cause {}

/// The client configuration is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    /// What is wrong and how to fix it.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid client configuration: {}", self.reason)
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}
