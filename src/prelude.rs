//! What a bot author needs, in one import: `use gewe::prelude::*;`.
//!
//! The client and a device, GeWe's callbacks with their message types, ids, the error, and
//! [`Sent`] (for `sent.revoke(&device)`). With the `bot` feature, also the bot's own types:
//! `Bot`, the handler's `Context`, the messages handlers take (`TextMessage`, `ImageMessage`),
//! `Filter`, and the device's `DeviceState` and `StateChange`.

pub use crate::events::{AppMessage, Event, Message, SystemMessage};
pub use crate::{Client, Device, Error, Id, Result, Sent, SentMessage};

#[cfg(feature = "bot")]
pub use crate::bot::{Bot, Context, DeviceState, Filter, ImageMessage, StateChange, TextMessage};
