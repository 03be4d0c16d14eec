#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod api_path;
#[cfg(feature = "bot")]
pub mod bot;
pub mod calls;
mod chat;
mod client;
mod device;
mod dispatch;
mod envelope;
mod error;
pub mod events;
mod generated;
mod id;
#[cfg(any(feature = "mock", feature = "webhook"))]
mod json_type;
mod lock;
pub mod login;
#[cfg(feature = "mock")]
pub mod mock;
pub mod pacing;
pub mod prelude;
mod retry;
mod sent;
pub mod tier;
mod token;
#[cfg(feature = "webhook")]
pub mod webhook;

pub use calls::Call;
pub use chat::is_group;
pub use client::{
    install_tls_provider, Client, ClientBuilder, API_PATH, DEFAULT_BASE_URL, SELF_HOSTED_API_PATH,
    TOKEN_HEADER,
};
pub use device::Device;
pub use dispatch::{operation, operations, NoData, Operation};
pub use error::{
    ApiError, Cause, ConfigError, DecodeError, Error, InvalidRequestError, ResponseTooLargeError,
    Result, StatusError, TransportError,
};
pub use id::{Id, ParseIdError};
pub use retry::RetryPolicy;
pub use sent::{Sent, SentMessage};
pub use tier::{ParseTierError, Tier};

/// The request and response types of every operation, generated from `openapi/`.
pub mod types {
    pub use crate::generated::calls::args::*;
    pub use crate::generated::enums::*;
    pub use crate::generated::types::*;
}

/// The normalized, merged OpenAPI 3.0 document every method is generated from (JSON).
pub const OPENAPI_SPEC: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// GeWe's apifox exports in `openapi/`, with our overlays applied but otherwise as GeWe wrote
/// them, merged into one document (JSON), for contract checkers such as Stoplight Prism.
pub const OPENAPI_SPEC_RAW: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.raw.json"));

/// The path → method map, as Markdown.
pub const METHOD_MAP: &str = include_str!(concat!(env!("OUT_DIR"), "/methods.md"));

/// Entry points for `cargo fuzz` into the decoders that read bytes from outside. Compiled only
/// with `--cfg fuzzing`, which `cargo fuzz` sets; not part of the API.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    /// Decodes a response body the way every typed method does, masking `token` in errors.
    pub fn decode<D: serde::de::DeserializeOwned>(
        status: u16,
        body: &[u8],
        token: &str,
    ) -> crate::Result<D> {
        let status = reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::OK);
        crate::envelope::decode(
            "/fuzz/decode",
            status,
            body,
            &crate::token::Token::new(token.into()),
        )
    }

    #[cfg(feature = "webhook")]
    pub use crate::webhook::FuzzReceiver;
}
