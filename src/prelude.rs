//! What a bot author needs, in one import: `use gewe::prelude::*;`.
//!
//! The client and a device, GeWe's callbacks with their message types, ids, the error, and
//! [`Sent`] (for `sent.revoke(&device)`).

pub use crate::events::{AppMessage, Event, Message, SystemMessage};
pub use crate::{Client, Device, Error, Id, Result, Sent, SentMessage};
