//! The payloads of the deliveries that are not messages: contact changes and deletions, the
//! offline notice, and GeWe's test delivery.

use crate::types::{
    CallbackDelContacts, CallbackModContacts, CallbackOffline, CallbackTestMessage,
};
use serde_json::Value;

/// A contact or group changed (`TypeName` `ModContacts`): the typed `Data` and the whole
/// delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactChange {
    pub(super) data: Box<CallbackModContacts>,
    pub(super) raw: Value,
}

impl ContactChange {
    /// `Data`, typed.
    pub fn data(&self) -> &CallbackModContacts {
        &self.data
    }

    /// The whole delivery, as received.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// `Data.UserName.string`: the contact's wxid, or the group's id.
    pub fn user_name(&self) -> Option<&str> {
        self.data.user_name.as_ref()?.string.as_deref()
    }

    /// Whether the change is a group's (`UserName` ends in `@chatroom`).
    pub fn is_group(&self) -> bool {
        self.user_name().is_some_and(crate::is_group)
    }
}

/// A contact was removed (`TypeName` `DelContacts`): the typed `Data` and the whole delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactDeletion {
    pub(super) data: CallbackDelContacts,
    pub(super) raw: Value,
}

impl ContactDeletion {
    /// `Data`, typed.
    pub fn data(&self) -> &CallbackDelContacts {
        &self.data
    }

    /// The whole delivery, as received.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// `Data.UserName.string`: the deleted friend's wxid, or the id of the group left.
    pub fn user_name(&self) -> Option<&str> {
        self.data.user_name.as_ref()?.string.as_deref()
    }

    /// Whether the bot left a group (`UserName` ends in `@chatroom`) rather than deleting a
    /// friend.
    pub fn is_group(&self) -> bool {
        self.user_name().is_some_and(crate::is_group)
    }
}

/// The account went offline (`TypeName` `Offline`).
#[derive(Debug, Clone, PartialEq)]
pub struct OfflineNotice {
    pub(super) data: CallbackOffline,
    pub(super) raw: Value,
}

impl OfflineNotice {
    /// The delivery, typed.
    pub fn data(&self) -> &CallbackOffline {
        &self.data
    }

    /// The whole delivery, as received.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// The wxid of the account that went offline.
    pub fn wxid(&self) -> Option<&str> {
        self.data.wxid.as_deref()
    }
}

/// The delivery GeWe sends to check a new callback URL (a top-level `testMsg`).
#[derive(Debug, Clone, PartialEq)]
pub struct TestMessage {
    pub(super) data: CallbackTestMessage,
    pub(super) raw: Value,
}

impl TestMessage {
    /// The delivery, typed.
    pub fn data(&self) -> &CallbackTestMessage {
        &self.data
    }

    /// The whole delivery, as received.
    pub fn raw(&self) -> &Value {
        &self.raw
    }
}
