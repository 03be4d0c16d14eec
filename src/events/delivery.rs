//! A delivery read in any shape it arrives in, into GeWe's documented one.
//!
//! - GeWe's documented envelope, `{TypeName, Appid, Wxid, Data}`.
//! - The same in snake case, as the self-hosted gewechat image of early 2025 sent it:
//!   `{type_name, appid, data, Wxid}`, PascalCase kept inside `data`.
//! - Inside an `AddMsg`'s `Data`, `MsgSource` and `PushContent` as plain strings or wrapped as
//!   `{"string": …}` (the wrapper of `Content`); `NewMsgId` and `MsgId` as numbers or strings
//!   of digits ([`Id`]).
//! - The flat "v2" format a third-party client reports: `{appid, wxid, msgType, msgId,
//!   newMsgId, createTime (ms), content, pushContent, msgSource, fromUser, fromGroup, toUser,
//!   isSelf}`, `msgType` a name such as `TEXT` ([`flat_msg_type`]).
//! - The mac format of the docs' group-invitation example: `{wcId, account, messageType,
//!   data: {fromUser, fromGroup, toUser, content, newMsgId, msgId, timestamp, …}}`.
//!
//! The webhook reads a delivery's keys ([`app_id`], [`new_msg_id`]) through this module too,
//! so that its dedup window and allowlist see every shape as the classifier does.

use crate::Id;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::borrow::Cow;

use super::codes::MsgType;

/// The envelope's keys, in every spelling seen; GeWe's documented one first.
const TYPE_NAME: &[&str] = &["TypeName", "type_name"];
const APP_ID: &[&str] = &["Appid", "appid"];
const WXID: &[&str] = &["Wxid", "wxid"];
const DATA: &[&str] = &["Data", "data"];
/// The mac format's bot account.
const MAC_WXID: &str = "wcId";

/// `AddMsg` fields documented as plain strings that also arrive wrapped as `{"string": …}`.
const PLAIN_STRINGS: &[&str] = &["MsgSource", "PushContent"];

/// A delivery in GeWe's documented shape.
pub(crate) struct Canonical<'a> {
    /// `TypeName`: `AddMsg`, `ModContacts`, `DelContacts`, `Offline`, …
    pub type_name: Option<&'a str>,
    /// `Data`, every field in its documented form; `None` when absent or not an object.
    pub data: Option<Cow<'a, Value>>,
}

/// Reads `raw` as one of the shapes of the module docs. `None` when it is not an object.
pub(crate) fn read(raw: &Value) -> Option<Canonical<'_>> {
    let obj = raw.as_object()?;
    let type_name = member(obj, TYPE_NAME).and_then(Value::as_str);
    let data = member(obj, DATA).filter(|d| d.is_object());
    if type_name.is_some() {
        let data = match (type_name, data) {
            (Some("AddMsg"), Some(d)) => Some(add_msg_data(d)),
            (_, d) => d.map(Cow::Borrowed),
        };
        return Some(Canonical { type_name, data });
    }
    if let Some(flat) = flat_v2(obj) {
        return Some(flat);
    }
    if let Some(mac) = mac(obj) {
        return Some(mac);
    }
    Some(Canonical {
        type_name: None,
        data: data.map(Cow::Borrowed),
    })
}

/// The device (`Appid`) a delivery is for, read without classifying it.
pub(crate) fn app_id(raw: &Value) -> Option<&str> {
    member(raw.as_object()?, APP_ID).and_then(Value::as_str)
}

/// The bot's own account: the envelope's `Wxid`, or the mac format's `wcId`.
pub(crate) fn bot_wxid(raw: &Value) -> Option<&str> {
    let obj = raw.as_object()?;
    member(obj, WXID)
        .or_else(|| obj.get(MAC_WXID))
        .and_then(Value::as_str)
}

/// The envelope's `TypeName`, in either spelling.
pub(crate) fn type_name(raw: &Value) -> Option<&str> {
    member(raw.as_object()?, TYPE_NAME).and_then(Value::as_str)
}

/// The documented offline notice, `{TypeName, Appid, Wxid}`, from the envelope in any
/// spelling (the flat format's `msgType` `Offline` included); members of the wrong type are
/// kept as they are, for the typed decoding to refuse.
pub(crate) fn offline(raw: &Value) -> Value {
    let mut out = Map::new();
    out.insert("TypeName".to_owned(), json!("Offline"));
    if let Some(obj) = raw.as_object() {
        if let Some(t) = member(obj, TYPE_NAME) {
            out.insert("TypeName".to_owned(), t.clone());
        }
        for (spellings, key) in [(APP_ID, "Appid"), (WXID, "Wxid")] {
            if let Some(v) = member(obj, spellings) {
                out.insert(key.to_owned(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// `NewMsgId`, wherever the delivery's shape keeps it, read without classifying it.
pub(crate) fn new_msg_id(raw: &Value) -> Option<Id> {
    id_at(raw, "NewMsgId", "newMsgId")
}

/// `MsgId`, wherever the delivery's shape keeps it.
pub(crate) fn msg_id(raw: &Value) -> Option<Id> {
    id_at(raw, "MsgId", "msgId")
}

/// `Data.{pascal}` (either spelling of `Data`), else the flat `{camel}`, else the mac
/// `data.{camel}`.
fn id_at(raw: &Value, pascal: &str, camel: &str) -> Option<Id> {
    let obj = raw.as_object()?;
    let data = member(obj, DATA).and_then(Value::as_object);
    let value = data
        .and_then(|d| d.get(pascal))
        .or_else(|| obj.get(camel))
        .or_else(|| data.and_then(|d| d.get(camel)))?;
    Id::deserialize(value).ok()
}

fn member<'a>(obj: &'a Map<String, Value>, spellings: &[&str]) -> Option<&'a Value> {
    spellings.iter().find_map(|k| obj.get(*k))
}

/// An `AddMsg`'s `Data` with every field in its documented form; borrowed when it already is.
fn add_msg_data(data: &Value) -> Cow<'_, Value> {
    let Some(obj) = data.as_object() else {
        return Cow::Borrowed(data);
    };
    let wrapped = |k: &&str| obj.get(*k).is_some_and(Value::is_object);
    if !PLAIN_STRINGS.iter().any(wrapped) {
        return Cow::Borrowed(data);
    }
    let mut obj = obj.clone();
    for key in PLAIN_STRINGS {
        let Some(Value::Object(wrapped)) = obj.get(*key) else {
            continue;
        };
        match wrapped.get("string").cloned() {
            Some(inner) => {
                obj.insert((*key).to_owned(), inner);
            }
            // `{}` is GeWe's empty string; another object is left for decoding to refuse.
            None if wrapped.is_empty() => {
                obj.remove(*key);
            }
            None => {}
        }
    }
    Cow::Owned(Value::Object(obj))
}

/// The `MsgType` a flat delivery's `msgType` name stands for. The system notices are 10002
/// when their content is `<sysmsg>` XML, 10000 otherwise; app messages are all 49, their kind
/// read from the XML as for any app message.
pub(crate) fn flat_msg_type(name: &str, content: &str) -> Option<MsgType> {
    let system = if content.trim_start().starts_with("<sysmsg") {
        MsgType::SystemXml
    } else {
        MsgType::SystemText
    };
    Some(match name {
        "TEXT" => MsgType::Text,
        "IMAGE" => MsgType::Image,
        "VOICE" => MsgType::Voice,
        "VIDEO" => MsgType::Video,
        "EMOJI" => MsgType::Emoji,
        "LOCATION" => MsgType::Location,
        "CARD" => MsgType::Card,
        "APP_MSG" | "LINK" | "FILE" | "MINI_PROGRAM" | "QUOTE" | "CHAT_RECORD" | "TRANSFER"
        | "RED_PACKET" | "FINDER_FEED" => MsgType::App,
        "REVOKE_MSG" | "PAT_MSG" | "GROUP_TODO" | "ANNOUNCEMENT" | "REMOVE_FROM_GROUP"
        | "GROUP_NAME_CHANGE" | "GROUP_DISMISS" => system,
        _ => return None,
    })
}

/// A `createTime` in milliseconds (the flat format's) as GeWe's seconds; a value already in
/// seconds (below 10¹¹, the year 5138) is kept.
fn seconds(v: &Value) -> Option<Value> {
    let t = v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())?;
    Some(json!(if t >= 100_000_000_000 { t / 1000 } else { t }))
}

fn text<'a>(obj: &'a Map<String, Value>, key: &str) -> &'a str {
    obj.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The flat "v2" format: no `TypeName`, a top-level `msgType` (a name, or a number).
fn flat_v2(obj: &Map<String, Value>) -> Option<Canonical<'_>> {
    let wxid = member(obj, WXID).and_then(Value::as_str);
    let msg_type = obj.get("msgType")?;
    let content = text(obj, "content");
    if msg_type.as_str() == Some("Offline") {
        return Some(Canonical {
            type_name: Some("Offline"),
            data: None,
        });
    }
    let code = match msg_type {
        Value::String(name) => flat_msg_type(name, content)?,
        other => MsgType::from_code(other.as_i64()?),
    };
    let (from_user, group, to_user) = (
        text(obj, "fromUser"),
        text(obj, "fromGroup"),
        text(obj, "toUser"),
    );
    let is_self = match obj.get("isSelf") {
        Some(Value::Bool(b)) => *b,
        Some(v) => v.as_i64() == Some(1) || v.as_str() == Some("true"),
        None => false,
    };
    // Back to GeWe's form: a group message comes from the group with the member's wxid as a
    // `wxid:\n` prefix; the bot's own goes to the group.
    let (from, to, content) = if group.is_empty() {
        (from_user, to_user, Cow::Borrowed(content))
    } else if is_self {
        (wxid.unwrap_or(from_user), group, Cow::Borrowed(content))
    } else if from_user.is_empty() || from_user == group {
        (group, to_user, Cow::Borrowed(content))
    } else {
        (
            group,
            to_user,
            Cow::Owned(format!("{from_user}:\n{content}")),
        )
    };
    let mut data = json!({
        "MsgType": code.code(),
        "FromUserName": {"string": from},
        "ToUserName": {"string": to},
        "Content": {"string": content},
    });
    let map = data.as_object_mut()?;
    for (flat, pascal) in [
        ("msgId", "MsgId"),
        ("newMsgId", "NewMsgId"),
        ("pushContent", "PushContent"),
        ("msgSource", "MsgSource"),
    ] {
        if let Some(v) = obj.get(flat).filter(|v| !v.is_null()) {
            map.insert(pascal.to_owned(), v.clone());
        }
    }
    if let Some(t) = obj.get("createTime").and_then(seconds) {
        map.insert("CreateTime".to_owned(), t);
    }
    Some(Canonical {
        type_name: Some("AddMsg"),
        data: Some(Cow::Owned(add_msg_data(&data).into_owned())),
    })
}

/// The mac format. It carries no type table; a delivery whose sender is the group itself
/// (`fromUser` = `fromGroup`), as GeWe marks its group notices, is a plain-text group notice
/// (`MsgType` 10000). Any other is not read.
fn mac(obj: &Map<String, Value>) -> Option<Canonical<'_>> {
    let data = obj.get("data")?.as_object()?;
    let group = text(data, "fromGroup");
    if !obj.get(MAC_WXID).is_some_and(Value::is_string)
        || group.is_empty()
        || text(data, "fromUser") != group
    {
        return None;
    }
    let mut canonical = json!({
        "MsgType": MsgType::SystemText.code(),
        "FromUserName": {"string": group},
        "ToUserName": {"string": text(data, "toUser")},
        "Content": {"string": text(data, "content")},
    });
    let map = canonical.as_object_mut()?;
    for (mac, pascal) in [("msgId", "MsgId"), ("newMsgId", "NewMsgId")] {
        if let Some(v) = data.get(mac) {
            map.insert(pascal.to_owned(), v.clone());
        }
    }
    if let Some(t) = data.get("timestamp").and_then(seconds) {
        map.insert("CreateTime".to_owned(), t);
    }
    Some(Canonical {
        type_name: Some("AddMsg"),
        data: Some(Cow::Owned(canonical)),
    })
}
