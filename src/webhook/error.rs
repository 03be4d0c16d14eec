//! Why a receiver could not start: [`WebhookError`].

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// Why a webhook receiver could not start.
#[non_exhaustive]
#[derive(Debug)]
pub enum WebhookError {
    /// The builder's settings are invalid; the reason says which.
    Config(String),
    /// The address could not be bound.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: io::Error,
    },
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookError::Config(reason) => write!(f, "invalid webhook configuration: {reason}"),
            WebhookError::Bind { addr, .. } => write!(f, "cannot listen on {addr}"),
        }
    }
}

impl std::error::Error for WebhookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WebhookError::Bind { source, .. } => Some(source),
            WebhookError::Config(_) => None,
        }
    }
}
