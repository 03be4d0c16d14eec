//! Typed callback events: what GeWe POSTs to the callback URL.

use crate::Id;
use serde_json::Value;

/// One callback delivery from GeWe, classified.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A kind this version does not classify; the raw JSON is kept whole.
    Unknown(Value),
}

impl Event {
    /// Classifies a delivery. Never fails: what no kind matches is [`Event::Unknown`].
    pub fn from_value(value: Value) -> Event {
        Event::Unknown(value)
    }

    /// The raw JSON of the delivery.
    pub fn raw(&self) -> &Value {
        match self {
            Event::Unknown(v) => v,
        }
    }

    /// The device (`Appid`) the delivery is for.
    pub fn app_id(&self) -> Option<&str> {
        self.raw().get("Appid").and_then(Value::as_str)
    }

    /// `Data.NewMsgId`, the message's unique id, exact.
    pub fn new_msg_id(&self) -> Option<Id> {
        serde_json::from_value(self.raw().get("Data")?.get("NewMsgId")?.clone()).ok()
    }
}
