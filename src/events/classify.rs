//! The rules that pick a delivery's kind. The kinds a code names by itself come from the kind
//! table (`kinds.rs`); the rules here are those a code does not settle: group invitations,
//! forwarded items, and group notices told apart by their text.

use super::codes::{AppType, MsgType, SysType};
use super::kinds::{AppKind, MessageKind, SystemKind};
use super::notice::{notice_text, NOTICE_GROWTH};
use super::{delivery, xml};
use super::{AppMessage, ContactChange, ContactDeletion, Event, Message, OfflineNotice};
use super::{SystemMessage, TestMessage};
use crate::types::{
    CallbackAddMsg, CallbackDelContacts, CallbackModContacts, CallbackOffline, CallbackTestMessage,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

/// The title of a group-invitation card, on a Chinese-language phone.
const INVITE_TITLE: &str = "邀请你加入群聊";
/// The invitation link of a group-invitation card, whatever the language.
const INVITE_URL: &str = "addchatroombyinvite";

/// Classifies one delivery; see the [module docs](super).
pub(super) fn classify(value: Value) -> Event {
    match decode_delivery(&value) {
        Decoded::Message(data) => classify_message(Message::new(data, value)),
        Decoded::ContactChanged(data) => Event::ContactChanged(ContactChange { data, raw: value }),
        Decoded::ContactDeleted(data) => {
            Event::ContactDeleted(ContactDeletion { data, raw: value })
        }
        Decoded::Offline(data) => Event::Offline(OfflineNotice { data, raw: value }),
        Decoded::Test(data) => Event::TestMessage(TestMessage { data, raw: value }),
        Decoded::Unknown => Event::Unknown(value),
    }
}

/// A delivery's typed payload, before the delivery is moved in.
enum Decoded {
    Message(CallbackAddMsg),
    ContactChanged(Box<CallbackModContacts>),
    ContactDeleted(CallbackDelContacts),
    Offline(CallbackOffline),
    Test(CallbackTestMessage),
    Unknown,
}

fn decode_delivery(value: &Value) -> Decoded {
    let Some(delivery) = delivery::read(value) else {
        return Decoded::Unknown;
    };
    let data = delivery.data.as_deref();
    let decoded = match delivery.type_name {
        Some("AddMsg") => decode(data).map(Decoded::Message),
        Some("ModContacts") => decode(data).map(|d| Decoded::ContactChanged(Box::new(d))),
        Some("DelContacts") => decode(data).map(Decoded::ContactDeleted),
        Some("Offline") => CallbackOffline::deserialize(&delivery::offline(value))
            .ok()
            .map(Decoded::Offline),
        None if value.get("testMsg").is_some() => CallbackTestMessage::deserialize(value)
            .ok()
            .map(Decoded::Test),
        _ => None,
    };
    decoded.unwrap_or(Decoded::Unknown)
}

/// `Data`, decoded; `None` when absent, not an object, or of other types.
fn decode<T: DeserializeOwned>(data: Option<&Value>) -> Option<T> {
    T::deserialize(data.filter(|d| d.is_object())?).ok()
}

fn classify_message(message: Message) -> Event {
    let Some(code) = message.msg_type() else {
        return Event::Unknown(message.into_raw());
    };
    if let Some(kind) = MessageKind::of(&code) {
        return kind.wrap(message);
    }
    match code {
        MsgType::App => classify_app(message),
        MsgType::SystemText => classify_plain_system(message),
        MsgType::SystemXml => classify_xml_system(message),
        _ => Event::Unknown(message.into_raw()),
    }
}

fn classify_app(message: Message) -> Event {
    let doc = xml::parse(message.body());
    let field = |name: &str| {
        doc.descendant("appmsg")
            .and_then(|a| a.child(name))
            .map(xml::Element::text)
            .unwrap_or_default()
    };
    let code = |name: &str| field(name).parse::<i64>().ok().map(AppType::from_code);
    let app_type = code("type");
    let inner_type = code("realinnertype");
    let (title, description, url) = (field("title"), field("des"), field("url"));
    message.keep_xml(doc);
    // A saved item forwarded on is what it holds.
    let holds = match (&app_type, &inner_type) {
        (Some(AppType::Forwarded), Some(inner)) => Some(inner),
        (outer, _) => outer.as_ref(),
    };
    let kind = match holds {
        Some(AppType::Link) if title == INVITE_TITLE || url.contains(INVITE_URL) => {
            AppKind::GroupInvite
        }
        Some(code) => AppKind::of(code).unwrap_or(AppKind::OtherApp),
        None => AppKind::OtherApp,
    };
    kind.wrap(AppMessage {
        message,
        app_type,
        inner_type,
        title,
        description,
        url,
    })
}

/// The kind a group notice's text names, on a Chinese-language phone.
fn kind_from_text(text: &str) -> SystemKind {
    if text.contains("修改群名为") {
        SystemKind::GroupRenamed
    } else if text.contains("新群主") {
        SystemKind::GroupOwnerChanged
    } else if text.contains("移出") {
        if text.starts_with("你被") {
            SystemKind::RemovedFromGroup
        } else {
            SystemKind::MemberRemoved
        }
    } else if text.contains("解散") {
        SystemKind::GroupDismissed
    } else if text.contains("加入") {
        SystemKind::MemberJoined
    } else {
        SystemKind::OtherSystem
    }
}

fn classify_plain_system(message: Message) -> Event {
    let text = message.body().trim().to_string();
    kind_from_text(&text).wrap(SystemMessage {
        sys_type: None,
        text,
        message,
    })
}

fn classify_xml_system(message: Message) -> Event {
    let doc = xml::parse(message.body());
    let sysmsg = doc.descendant("sysmsg");
    let sys_type = sysmsg.and_then(|s| s.attr("type")).map(SysType::from_code);
    let limit = NOTICE_GROWTH * message.body().len();
    let text = sysmsg.map(|s| notice_text(s, limit)).unwrap_or_default();
    let kicked = sysmsg.is_some_and(|s| {
        s.descendants("link")
            .any(|l| l.attr("name") == Some("kickoutname"))
    });
    message.keep_xml(doc);
    let kind = match &sys_type {
        Some(SysType::Template) if kicked => SystemKind::MemberRemoved,
        Some(SysType::Template) => kind_from_text(&text),
        Some(code) => SystemKind::of(code).unwrap_or(SystemKind::OtherSystem),
        None => SystemKind::OtherSystem,
    };
    kind.wrap(SystemMessage {
        sys_type,
        text,
        message,
    })
}
