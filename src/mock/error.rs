//! Why the mock could not start or deliver a callback: [`MockError`].

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// Why a [`MockServer`](super::MockServer) could not start, or could not deliver a callback.
#[non_exhaustive]
#[derive(Debug)]
pub enum MockError {
    /// The loopback address could not be bound.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: io::Error,
    },
    /// The OpenAPI spec embedded at build time is not what the build writes (a build bug).
    Spec(String),
    /// No callback URL is registered: the bot has not called `/login/setCallback`.
    NoCallbackUrl,
    /// The callback URL could not be reached.
    Delivery {
        /// The callback URL.
        url: String,
        /// reqwest's error.
        source: reqwest::Error,
    },
}

impl fmt::Display for MockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MockError::Bind { addr, .. } => write!(f, "gewe mock: cannot listen on {addr}"),
            MockError::Spec(reason) => write!(f, "gewe mock: the embedded OpenAPI spec: {reason}"),
            MockError::NoCallbackUrl => {
                f.write_str("no callback URL: the bot has not called /login/setCallback")
            }
            MockError::Delivery { url, .. } => write!(f, "cannot deliver the callback to {url}"),
        }
    }
}

impl std::error::Error for MockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MockError::Bind { source, .. } => Some(source),
            MockError::Delivery { source, .. } => Some(source),
            MockError::Spec(_) | MockError::NoCallbackUrl => None,
        }
    }
}
