//! The short form of every operation: a call from a [`Device`](crate::Device), by docs module.
//!
//! ```no_run
//! # async fn run(client: gewe::Client) -> gewe::Result<()> {
//! let device = client.device("wx_app_id");
//! device.message().post_text("wxid_friend", "hi").await?;
//! device
//!     .message()
//!     .post_text("123456@chatroom", "@所有人 开会了")
//!     .ats("notify@all")
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Each docs module has a handle on the device ([`Device::message`](crate::Device::message),
//! [`Device::group`](crate::Device::group), …), named after the folder under `openapi/`. Its
//! methods are the module's operations, named after the path without the module
//! (`/message/postText` → `post_text`). A method takes the required fields in the order of the
//! doc page, and fills in the device's `appId`; an operation with more than four required fields
//! takes them as one struct of named fields (`types::MessagePostLinkArgs`), so that no two
//! strings can be swapped silently. It returns a [`Call`]: optional fields are its setters,
//! and `.await` sends it, returning the typed `data` as the struct method does. A new optional
//! field in GeWe's docs adds a setter and changes no existing signature.
//!
//! The few operations that need no device are on the [`Client`], by module:
//! [`Client::login_calls`](crate::Client::login_calls).
//!
//! All of this is generated from `openapi/` by `build.rs`. [`crate::METHOD_MAP`] lists every
//! path with its call.

use crate::error::{Error, InvalidRequestError, Result};
use crate::{Client, Operation};
use std::future::{Future, IntoFuture};
use std::pin::Pin;

pub use crate::generated::calls::*;

/// What `.await` on a [`Call`] gives: a boxed future, so that a call can be spawned or stored.
pub type CallFuture<T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'static>>;

/// One call of a GeWe operation: its request, ready to send. Optional fields are setters;
/// `.await` sends it.
///
/// A call owns a handle to the client (one `Arc`), so it is `'static` and may be spawned or
/// handed to [`Pacer::send`](crate::pacing::Pacer::send).
#[must_use = "a call is sent only when awaited"]
#[derive(Clone, Debug)]
pub struct Call<R> {
    client: Client,
    pub(crate) request: R,
    /// Why the call is refused without sending anything.
    refused: Option<String>,
}

impl<R> Call<R> {
    pub(crate) fn new(client: Client, request: R) -> Self {
        Call {
            client,
            request,
            refused: None,
        }
    }

    /// A call that `.await` refuses with [`Error::InvalidRequest`], sending nothing.
    pub(crate) fn refused(client: Client, request: R, reason: String) -> Self {
        Call {
            client,
            request,
            refused: Some(reason),
        }
    }

    /// The request as it will be sent.
    pub fn request(&self) -> &R {
        &self.request
    }
}

impl<R: Request> Call<R> {
    /// The request, for sending it another way (the struct method, a queue). A call that
    /// `.await` would refuse (a device with an empty `appId`, a revoke missing an id) is refused
    /// here too, so that its request cannot go out another way.
    pub fn into_request(self) -> Result<R> {
        match self.refused {
            Some(reason) => Err(refusal::<R>(reason)),
            None => Ok(self.request),
        }
    }
}

impl<R: Request> IntoFuture for Call<R> {
    type Output = Result<R::Data>;
    type IntoFuture = CallFuture<R::Data>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            if let Some(reason) = self.refused {
                return Err(refusal::<R>(reason));
            }
            self.request.send(&self.client).await
        })
    }
}

/// The error of a refused call: nothing was sent.
fn refusal<R: Request>(reason: String) -> Error {
    Error::InvalidRequest(Box::new(InvalidRequestError {
        operation: R::operation().path.to_owned(),
        reason,
        source: None,
    }))
}

/// The request type of an operation, which a [`Call`] sends. `build.rs` implements it for every
/// operation's request; it cannot be implemented outside this crate.
pub trait Request: sealed::Sealed + Send + Sync + Sized + 'static {
    /// What a successful call returns: the operation's typed `data`.
    type Data: Send + 'static;

    /// The operation the request is for.
    fn operation() -> &'static Operation;

    /// Sends the request with its struct method.
    #[doc(hidden)]
    fn send<'a>(
        &'a self,
        client: &'a Client,
    ) -> impl Future<Output = Result<Self::Data>> + Send + 'a;
}

pub(crate) mod sealed {
    /// Keeps [`Request`](super::Request) implemented only by the generated request types.
    pub trait Sealed {}
}
