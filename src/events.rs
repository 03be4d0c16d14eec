//! Typed callback events: what GeWe POSTs to the callback URL.
//!
//! [`Event::from_value`] classifies one delivery. The JSON shapes are generated from
//! `openapi/ours/callbacks/` ([`CallbackAddMsg`], [`CallbackModContacts`], …); the kind is decided
//! here, in this order:
//!
//! 1. `TypeName`: `AddMsg` is a message (below), `ModContacts` is [`Event::ContactChanged`],
//!    `DelContacts` is [`Event::ContactDeleted`], `Offline` is [`Event::Offline`]. A delivery
//!    without `TypeName` but with a top-level `testMsg` is [`Event::TestMessage`].
//! 2. For `AddMsg`, `Data.MsgType`: 1 text, 3 image, 34 voice, 37 friend request, 42 contact
//!    card, 43 video, 47 emoji, 48 location, 51 status sync; 49 and 10000/10002 go on.
//! 3. `MsgType` 49 (app message): the `<type>` of the `<appmsg>` in `Content.string` — 5 link
//!    (or a group invitation, when the title is 邀请你加入群聊 or the URL is WeChat's
//!    `addchatroombyinvite`), 6 file, 74 file being sent, 33/36 mini program, 57 quote,
//!    2000 transfer, 2001 red packet, 51 Channels (视频号) post, 19 chat history; any other type
//!    is [`Event::OtherApp`].
//! 4. `MsgType` 10002 (XML system message): the `type` attribute of `<sysmsg>` — `revokemsg`,
//!    `pat`, `mmchatroombarannouncememt` (sic), `roomtoolstips`, `delchatroommember` (a member
//!    was invited in, on mac devices), and `sysmsgtemplate`, told apart by its template: a
//!    `kickoutname` link or 移出 is a removal, 解散 a dismissal, 加入 a join.
//! 5. `MsgType` 10000 (plain-text system message), by its text: 修改群名为 (renamed),
//!    新群主 (owner changed), 你被…移出 (the bot was removed), 移出 (a member was removed),
//!    解散, 加入. These words are those of a Chinese-language phone; other languages give
//!    [`Event::OtherSystem`].
//!
//! Anything else — another `TypeName` or `MsgType`, a payload that is not an object, one whose
//! fields do not have the documented JSON types, or the flat mac format without `TypeName`
//! (`{wcId, account, messageType, data}`, seen once in the docs with no type table) — is
//! [`Event::Unknown`], holding the JSON whole. Classification never fails and never panics, and
//! every variant keeps the whole delivery ([`Event::raw`]).
//!
//! ```
//! use gewe::events::Event;
//! let event = Event::from_value(serde_json::json!({
//!     "TypeName": "AddMsg", "Appid": "wx_app", "Wxid": "wxid_bot",
//!     "Data": {
//!         "MsgId": 1040356095, "NewMsgId": 7773749793478223190_u64, "MsgType": 1,
//!         "FromUserName": {"string": "34757816141@chatroom"},
//!         "ToUserName": {"string": "wxid_bot"},
//!         "Content": {"string": "wxid_alice:\nhello @bot"},
//!         "MsgSource": "<msgsource><atuserlist><![CDATA[,wxid_bot]]></atuserlist></msgsource>"
//!     }
//! }));
//! let Event::Text(msg) = &event else { panic!("a text message") };
//! assert!(msg.is_group());
//! assert_eq!(msg.chat_id(), Some("34757816141@chatroom"));
//! assert_eq!(msg.sender(), Some("wxid_alice"));
//! assert_eq!(msg.body(), "hello @bot");
//! assert!(msg.is_mentioned());
//! assert!(!msg.is_from_self());
//! assert_eq!(event.new_msg_id().unwrap().as_u64(), Some(7773749793478223190));
//! ```

mod xml;

use crate::types::{
    CallbackAddMsg, CallbackDelContacts, CallbackModContacts, CallbackOffline, CallbackTestMessage,
};
use crate::Id;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::ops::Deref;

const CHATROOM_SUFFIX: &str = "@chatroom";
/// What WeChat puts in `PushContent` when the account is @-mentioned in a group.
const MENTIONED_PUSH: &str = "在群聊中@了你";
/// The `<atuserlist>` entry of an @所有人 mention.
const NOTIFY_ALL: &str = "notify@all";
/// The title of a group-invitation card, on a Chinese-language phone.
const INVITE_TITLE: &str = "邀请你加入群聊";
/// The invitation link of a group-invitation card, whatever the language.
const INVITE_URL: &str = "addchatroombyinvite";
/// How many times its XML's size a filled notice may grow to. A real template names each
/// member once, so its text is shorter than the XML that carries the nicknames.
const NOTICE_GROWTH: usize = 2;

/// One callback delivery from GeWe, classified. See the [module docs](self) for the rules.
///
/// Every variant keeps the whole delivery: [`Event::raw`]. Message variants hold a
/// [`Message`] (or an [`AppMessage`] / [`SystemMessage`], which deref to one), whose helpers
/// answer who sent it, in which chat, whether the bot was @-mentioned, and whether the bot sent
/// it itself; [`Event::message`] reaches it from any message variant.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A text message (`MsgType` 1).
    Text(Message),
    /// An image (`MsgType` 3); `Content` holds its CDN XML, `ImgBuf` a thumbnail.
    Image(Message),
    /// A voice message (`MsgType` 34).
    Voice(Message),
    /// A video (`MsgType` 43).
    Video(Message),
    /// An emoji / sticker (`MsgType` 47); its XML has the `md5` to send it again.
    Emoji(Message),
    /// A contact card, 名片 (`MsgType` 42); its XML has what is needed to add the contact.
    Card(Message),
    /// A location (`MsgType` 48).
    Location(Message),
    /// A friend request (`MsgType` 37, from `fmessage`); its XML has the `v3`/`v4` tickets.
    FriendRequest(Message),
    /// A status-sync message (`MsgType` 51), the WeChat client syncing its state.
    StatusSync(Message),
    /// A link, e.g. an official-account article (app message type 5).
    Link(AppMessage),
    /// An invitation to join a group (app message type 5 with the invitation title or link).
    GroupInvite(AppMessage),
    /// A file, fully sent: it can be downloaded or forwarded (app message type 6).
    File(AppMessage),
    /// A file being sent: a notice only, it cannot be downloaded or forwarded yet (type 74).
    FileUploading(AppMessage),
    /// A mini program (app message type 33 or 36).
    MiniProgram(AppMessage),
    /// A quote: a reply that cites an earlier message (app message type 57).
    Quote(AppMessage),
    /// A money transfer (app message type 2000).
    Transfer(AppMessage),
    /// A red packet, 红包 (app message type 2001).
    RedPacket(AppMessage),
    /// A Channels (视频号) post (app message type 51).
    FinderFeed(AppMessage),
    /// A forwarded chat history (app message type 19).
    ChatHistory(AppMessage),
    /// An app message of another type; [`AppMessage::app_type`] says which.
    OtherApp(AppMessage),
    /// A message was revoked (`sysmsg` `revokemsg`).
    Revoke(SystemMessage),
    /// A pat, 拍一拍 (`sysmsg` `pat`).
    Pat(SystemMessage),
    /// A member joined or was invited into a group.
    MemberJoined(SystemMessage),
    /// A member was removed from a group.
    MemberRemoved(SystemMessage),
    /// The bot itself was removed from a group.
    RemovedFromGroup(SystemMessage),
    /// A group was dismissed by its owner.
    GroupDismissed(SystemMessage),
    /// A group was renamed.
    GroupRenamed(SystemMessage),
    /// A group got a new owner.
    GroupOwnerChanged(SystemMessage),
    /// A group announcement was posted (`sysmsg` `mmchatroombarannouncememt`).
    GroupAnnouncement(SystemMessage),
    /// A message was made a group to-do, 群待办 (`sysmsg` `roomtoolstips`).
    GroupTodo(SystemMessage),
    /// Another system message (`MsgType` 10000 or 10002).
    OtherSystem(SystemMessage),
    /// A contact or a group changed, or a friend request was accepted (`ModContacts`).
    ContactChanged(ContactChange),
    /// A friend was deleted, or the bot left a group (`DelContacts`).
    ContactDeleted(ContactDeletion),
    /// The account went offline (`Offline`).
    Offline(OfflineNotice),
    /// The message GeWe sends to check a new callback URL: answer 200 and skip it.
    TestMessage(TestMessage),
    /// A kind this version does not classify; the raw JSON is kept whole.
    Unknown(Value),
}

impl Event {
    /// Classifies a delivery. Never fails: what no kind matches is [`Event::Unknown`].
    pub fn from_value(value: Value) -> Event {
        let Some(obj) = value.as_object() else {
            return Event::Unknown(value);
        };
        match obj.get("TypeName").and_then(Value::as_str) {
            Some("AddMsg") => classify_add_msg(value),
            Some("ModContacts") => match decode_data::<CallbackModContacts>(&value) {
                Some(data) => Event::ContactChanged(ContactChange {
                    data: Box::new(data),
                    raw: value,
                }),
                None => Event::Unknown(value),
            },
            Some("DelContacts") => match decode_data::<CallbackDelContacts>(&value) {
                Some(data) => Event::ContactDeleted(ContactDeletion { data, raw: value }),
                None => Event::Unknown(value),
            },
            Some("Offline") => match CallbackOffline::deserialize(&value) {
                Ok(data) => Event::Offline(OfflineNotice { data, raw: value }),
                Err(_) => Event::Unknown(value),
            },
            None if obj.contains_key("testMsg") => match CallbackTestMessage::deserialize(&value) {
                Ok(data) => Event::TestMessage(TestMessage { data, raw: value }),
                Err(_) => Event::Unknown(value),
            },
            _ => Event::Unknown(value),
        }
    }

    /// The raw JSON of the delivery.
    pub fn raw(&self) -> &Value {
        match self.parts() {
            Ok(m) => &m.raw,
            Err(raw) => raw,
        }
    }

    /// The variant's name (`"Text"`, `"Revoke"`, `"Unknown"`, …), for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Text(_) => "Text",
            Event::Image(_) => "Image",
            Event::Voice(_) => "Voice",
            Event::Video(_) => "Video",
            Event::Emoji(_) => "Emoji",
            Event::Card(_) => "Card",
            Event::Location(_) => "Location",
            Event::FriendRequest(_) => "FriendRequest",
            Event::StatusSync(_) => "StatusSync",
            Event::Link(_) => "Link",
            Event::GroupInvite(_) => "GroupInvite",
            Event::File(_) => "File",
            Event::FileUploading(_) => "FileUploading",
            Event::MiniProgram(_) => "MiniProgram",
            Event::Quote(_) => "Quote",
            Event::Transfer(_) => "Transfer",
            Event::RedPacket(_) => "RedPacket",
            Event::FinderFeed(_) => "FinderFeed",
            Event::ChatHistory(_) => "ChatHistory",
            Event::OtherApp(_) => "OtherApp",
            Event::Revoke(_) => "Revoke",
            Event::Pat(_) => "Pat",
            Event::MemberJoined(_) => "MemberJoined",
            Event::MemberRemoved(_) => "MemberRemoved",
            Event::RemovedFromGroup(_) => "RemovedFromGroup",
            Event::GroupDismissed(_) => "GroupDismissed",
            Event::GroupRenamed(_) => "GroupRenamed",
            Event::GroupOwnerChanged(_) => "GroupOwnerChanged",
            Event::GroupAnnouncement(_) => "GroupAnnouncement",
            Event::GroupTodo(_) => "GroupTodo",
            Event::OtherSystem(_) => "OtherSystem",
            Event::ContactChanged(_) => "ContactChanged",
            Event::ContactDeleted(_) => "ContactDeleted",
            Event::Offline(_) => "Offline",
            Event::TestMessage(_) => "TestMessage",
            Event::Unknown(_) => "Unknown",
        }
    }

    /// The message, for every `AddMsg` variant (an [`AppMessage`] or [`SystemMessage`] gives
    /// the [`Message`] it wraps); `None` for contact changes, notices and [`Event::Unknown`].
    pub fn message(&self) -> Option<&Message> {
        self.parts().ok()
    }

    /// The message of a message variant, or the raw JSON of the others.
    fn parts(&self) -> Result<&Message, &Value> {
        match self {
            Event::Text(m)
            | Event::Image(m)
            | Event::Voice(m)
            | Event::Video(m)
            | Event::Emoji(m)
            | Event::Card(m)
            | Event::Location(m)
            | Event::FriendRequest(m)
            | Event::StatusSync(m) => Ok(m),
            Event::Link(a)
            | Event::GroupInvite(a)
            | Event::File(a)
            | Event::FileUploading(a)
            | Event::MiniProgram(a)
            | Event::Quote(a)
            | Event::Transfer(a)
            | Event::RedPacket(a)
            | Event::FinderFeed(a)
            | Event::ChatHistory(a)
            | Event::OtherApp(a) => Ok(&a.message),
            Event::Revoke(s)
            | Event::Pat(s)
            | Event::MemberJoined(s)
            | Event::MemberRemoved(s)
            | Event::RemovedFromGroup(s)
            | Event::GroupDismissed(s)
            | Event::GroupRenamed(s)
            | Event::GroupOwnerChanged(s)
            | Event::GroupAnnouncement(s)
            | Event::GroupTodo(s)
            | Event::OtherSystem(s) => Ok(&s.message),
            Event::ContactChanged(c) => Err(&c.raw),
            Event::ContactDeleted(c) => Err(&c.raw),
            Event::Offline(n) => Err(&n.raw),
            Event::TestMessage(t) => Err(&t.raw),
            Event::Unknown(v) => Err(v),
        }
    }

    /// The envelope's `TypeName` (`AddMsg`, `ModContacts`, `DelContacts`, `Offline`).
    pub fn type_name(&self) -> Option<&str> {
        self.raw().get("TypeName").and_then(Value::as_str)
    }

    /// The device (`Appid`) the delivery is for.
    pub fn app_id(&self) -> Option<&str> {
        delivery_app_id(self.raw())
    }

    /// The envelope's `Wxid`: the bot's own account.
    pub fn bot_wxid(&self) -> Option<&str> {
        self.raw().get("Wxid").and_then(Value::as_str)
    }

    /// `Data.NewMsgId`, the message's unique id, exact.
    pub fn new_msg_id(&self) -> Option<Id> {
        delivery_new_msg_id(self.raw())
    }

    /// `Data.MsgId`, exact.
    pub fn msg_id(&self) -> Option<Id> {
        Id::deserialize(self.raw().get("Data")?.get("MsgId")?).ok()
    }

    /// [`Message::sender`] of a message variant.
    pub fn sender(&self) -> Option<&str> {
        self.message().and_then(Message::sender)
    }

    /// [`Message::chat_id`] of a message variant.
    pub fn chat_id(&self) -> Option<&str> {
        self.message().and_then(Message::chat_id)
    }

    /// [`Message::is_group`] of a message variant; `false` for the others.
    pub fn is_group(&self) -> bool {
        self.message().is_some_and(Message::is_group)
    }

    /// [`Message::is_mentioned`] of a message variant; `false` for the others.
    pub fn is_mentioned(&self) -> bool {
        self.message().is_some_and(Message::is_mentioned)
    }

    /// [`Message::is_from_self`] of a message variant; `false` for the others.
    pub fn is_from_self(&self) -> bool {
        self.message().is_some_and(Message::is_from_self)
    }
}

/// The `Appid` of a delivery, read without classifying it.
pub(crate) fn delivery_app_id(raw: &Value) -> Option<&str> {
    raw.get("Appid").and_then(Value::as_str)
}

/// The `Data.NewMsgId` of a delivery, read without classifying it.
pub(crate) fn delivery_new_msg_id(raw: &Value) -> Option<Id> {
    Id::deserialize(raw.get("Data")?.get("NewMsgId")?).ok()
}

/// `Data` of the delivery, decoded; `None` when absent, not an object, or of other types.
fn decode_data<T: DeserializeOwned>(value: &Value) -> Option<T> {
    let data = value.get("Data").filter(|d| d.is_object())?;
    T::deserialize(data).ok()
}

fn classify_add_msg(value: Value) -> Event {
    let Some(data) = decode_data::<CallbackAddMsg>(&value) else {
        return Event::Unknown(value);
    };
    let message = Message {
        data: Box::new(data),
        raw: value,
    };
    match message.msg_type() {
        Some(1) => Event::Text(message),
        Some(3) => Event::Image(message),
        Some(34) => Event::Voice(message),
        Some(37) => Event::FriendRequest(message),
        Some(42) => Event::Card(message),
        Some(43) => Event::Video(message),
        Some(47) => Event::Emoji(message),
        Some(48) => Event::Location(message),
        Some(51) => Event::StatusSync(message),
        Some(49) => classify_app(message),
        Some(10000) => classify_plain_system(message),
        Some(10002) => classify_xml_system(message),
        _ => Event::Unknown(message.raw),
    }
}

fn classify_app(message: Message) -> Event {
    let doc = xml::parse(message.body());
    let appmsg = doc.descendant("appmsg");
    let field = |name: &str| {
        appmsg
            .and_then(|a| a.child(name))
            .map(xml::Element::text)
            .unwrap_or_default()
    };
    let app = AppMessage {
        app_type: field("type").parse::<i64>().ok(),
        title: field("title"),
        description: field("des"),
        url: field("url"),
        message,
    };
    match app.app_type {
        Some(5) if app.title == INVITE_TITLE || app.url.contains(INVITE_URL) => {
            Event::GroupInvite(app)
        }
        Some(5) => Event::Link(app),
        Some(6) => Event::File(app),
        Some(74) => Event::FileUploading(app),
        Some(33 | 36) => Event::MiniProgram(app),
        Some(57) => Event::Quote(app),
        Some(2000) => Event::Transfer(app),
        Some(2001) => Event::RedPacket(app),
        Some(51) => Event::FinderFeed(app),
        Some(19) => Event::ChatHistory(app),
        _ => Event::OtherApp(app),
    }
}

/// The system-message variants, before the message is moved in.
#[derive(Clone, Copy)]
enum SystemKind {
    Revoke,
    Pat,
    MemberJoined,
    MemberRemoved,
    RemovedFromGroup,
    GroupDismissed,
    GroupRenamed,
    GroupOwnerChanged,
    GroupAnnouncement,
    GroupTodo,
    Other,
}

impl SystemKind {
    fn wrap(self, s: SystemMessage) -> Event {
        match self {
            SystemKind::Revoke => Event::Revoke(s),
            SystemKind::Pat => Event::Pat(s),
            SystemKind::MemberJoined => Event::MemberJoined(s),
            SystemKind::MemberRemoved => Event::MemberRemoved(s),
            SystemKind::RemovedFromGroup => Event::RemovedFromGroup(s),
            SystemKind::GroupDismissed => Event::GroupDismissed(s),
            SystemKind::GroupRenamed => Event::GroupRenamed(s),
            SystemKind::GroupOwnerChanged => Event::GroupOwnerChanged(s),
            SystemKind::GroupAnnouncement => Event::GroupAnnouncement(s),
            SystemKind::GroupTodo => Event::GroupTodo(s),
            SystemKind::Other => Event::OtherSystem(s),
        }
    }

    /// The kind a notice's text names, on a Chinese-language phone.
    fn from_text(text: &str) -> SystemKind {
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
            SystemKind::Other
        }
    }
}

fn classify_plain_system(message: Message) -> Event {
    let text = message.body().trim().to_string();
    let kind = SystemKind::from_text(&text);
    kind.wrap(SystemMessage {
        sys_type: None,
        text,
        message,
    })
}

fn classify_xml_system(message: Message) -> Event {
    let doc = xml::parse(message.body());
    let sysmsg = doc.descendant("sysmsg");
    let sys_type = sysmsg.and_then(|s| s.attr("type")).map(str::to_string);
    let limit = NOTICE_GROWTH * message.body().len();
    let text = sysmsg.map(|s| notice_text(s, limit)).unwrap_or_default();
    let kind = match sys_type.as_deref() {
        Some("revokemsg") => SystemKind::Revoke,
        Some("pat") => SystemKind::Pat,
        Some("mmchatroombarannouncememt") => SystemKind::GroupAnnouncement,
        Some("roomtoolstips") => SystemKind::GroupTodo,
        // On mac devices, the notice that the bot invited a member in.
        Some("delchatroommember") => SystemKind::MemberJoined,
        Some("sysmsgtemplate") => {
            let kicked = sysmsg.is_some_and(|s| {
                s.descendants("link")
                    .any(|l| l.attr("name") == Some("kickoutname"))
            });
            if kicked {
                SystemKind::MemberRemoved
            } else {
                SystemKind::from_text(&text)
            }
        }
        _ => SystemKind::Other,
    };
    kind.wrap(SystemMessage {
        sys_type,
        text,
        message,
    })
}

/// The human-readable text of a `<sysmsg>`: the revoke notice, the template (its `$name$`
/// placeholders filled with the linked members' nicknames), the plain text, or the content.
/// `limit` bounds the filled template, so that no delivery makes more text than a small
/// multiple of its own size.
fn notice_text(sysmsg: &xml::Element, limit: usize) -> String {
    for name in [
        "replacemsg",
        "template",
        "plain",
        "text",
        "content",
        "title",
    ] {
        let Some(text) = sysmsg
            .descendants(name)
            .map(xml::Element::text)
            .find(|t| !t.is_empty())
        else {
            continue;
        };
        if name != "template" {
            return text;
        }
        // The first link of each name with nicknames fills its placeholder.
        let mut fills: HashMap<String, String> = HashMap::new();
        for link in sysmsg.descendants("link") {
            let Some(placeholder) = link.attr("name").filter(|n| !n.is_empty()) else {
                continue;
            };
            if fills.contains_key(placeholder) {
                continue;
            }
            let names: Vec<String> = link
                .descendants("nickname")
                .map(xml::Element::text)
                .filter(|n| !n.is_empty())
                .collect();
            if !names.is_empty() {
                fills.insert(placeholder.to_owned(), names.join("、"));
            }
        }
        return fill_template(&text, &fills, limit);
    }
    String::new()
}

/// Replaces each `$name$` of `template` that `fills` names, in one pass over the template:
/// inserted text is never expanded again. Once the text would pass `limit` bytes, the remaining
/// placeholders stay as written.
fn fill_template(template: &str, fills: &HashMap<String, String>, limit: usize) -> String {
    let mut out = String::with_capacity(template.len().min(limit));
    let mut rest = template;
    while let Some(open) = rest.find('$') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('$') else {
            break;
        };
        out.push_str(&rest[..open]);
        let name = &after[..close];
        match fills.get(name) {
            Some(fill) => {
                if out.len() + fill.len() <= limit {
                    out.push_str(fill);
                } else {
                    out.push_str(&rest[open..open + close + 2]);
                }
                rest = &after[close + 1..];
            }
            // Not a placeholder: keep `$name` and look again from the closing `$`, which may
            // open the next one.
            None => {
                out.push('$');
                out.push_str(name);
                rest = &after[close..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_chatroom(id: &str) -> bool {
    id.ends_with(CHATROOM_SUFFIX)
}

/// Whether `s` can be the `wxid` of a group message's `wxid:\n` prefix.
fn looks_like_wxid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'@' | b'.'))
}

/// A new message (`TypeName` `AddMsg`): the typed `Data` and the whole delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    // Boxed, as are the other typed payloads: an `Event` stays small to move around.
    data: Box<CallbackAddMsg>,
    raw: Value,
}

impl Message {
    /// `Data`, typed.
    pub fn data(&self) -> &CallbackAddMsg {
        &self.data
    }

    /// The whole delivery, as received.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// The envelope's `Appid`: the device.
    pub fn app_id(&self) -> Option<&str> {
        self.raw.get("Appid").and_then(Value::as_str)
    }

    /// The envelope's `Wxid`: the bot's own account.
    pub fn bot_wxid(&self) -> Option<&str> {
        self.raw.get("Wxid").and_then(Value::as_str)
    }

    /// `Data.MsgType`.
    pub fn msg_type(&self) -> Option<i64> {
        self.data.msg_type
    }

    /// `Data.MsgId`, exact.
    pub fn msg_id(&self) -> Option<Id> {
        self.data.msg_id
    }

    /// `Data.NewMsgId`, the message's unique id, exact. With [`Message::app_id`] it is the
    /// key to deduplicate deliveries by.
    pub fn new_msg_id(&self) -> Option<Id> {
        self.data.new_msg_id
    }

    /// `Data.CreateTime`, a Unix time in seconds.
    pub fn create_time(&self) -> Option<i64> {
        self.data.create_time
    }

    /// `Data.FromUserName.string`: the sender's wxid, or the group's id for a group message.
    pub fn from_user(&self) -> Option<&str> {
        self.data.from_user_name.as_ref()?.string.as_deref()
    }

    /// `Data.ToUserName.string`: the receiver's wxid (or the group, for the bot's own group
    /// messages).
    pub fn to_user(&self) -> Option<&str> {
        self.data.to_user_name.as_ref()?.string.as_deref()
    }

    /// `Data.Content.string` as sent, with a group message's `wxid:\n` prefix; `""` when absent.
    pub fn content(&self) -> &str {
        self.data
            .content
            .as_ref()
            .and_then(|c| c.string.as_deref())
            .unwrap_or("")
    }

    /// `Data.PushContent`, the notification text (some kinds have none).
    pub fn push_content(&self) -> Option<&str> {
        self.data.push_content.as_deref()
    }

    /// `Data.MsgSource`, XML about the message.
    pub fn msg_source(&self) -> Option<&str> {
        self.data.msg_source.as_deref()
    }

    /// Whether the chat is a group: `FromUserName` (or, for the bot's own messages,
    /// `ToUserName`) ends in `@chatroom`.
    pub fn is_group(&self) -> bool {
        self.from_user().is_some_and(is_chatroom) || self.to_user().is_some_and(is_chatroom)
    }

    /// Whether the chat is one-to-one; the opposite of [`Message::is_group`].
    pub fn is_private(&self) -> bool {
        !self.is_group()
    }

    /// The chat to answer in: the group's id for a group message; for a private one the other
    /// party (`ToUserName` when the bot sent it, `FromUserName` otherwise).
    pub fn chat_id(&self) -> Option<&str> {
        let from = self.from_user();
        let to = self.to_user();
        if let Some(group) = from.filter(|f| is_chatroom(f)) {
            return Some(group);
        }
        if let Some(group) = to.filter(|t| is_chatroom(t)) {
            return Some(group);
        }
        if self.is_from_self() {
            to
        } else {
            from
        }
    }

    /// Who sent the message: in a group, the member's wxid from the `wxid:\n` prefix of the
    /// content (GeWe puts the group's own id there for its system notices, and a notice
    /// without a prefix gives the group's id too); otherwise `FromUserName`.
    pub fn sender(&self) -> Option<&str> {
        let from = self.from_user()?;
        if is_chatroom(from) {
            Some(self.split_content().0.unwrap_or(from))
        } else {
            Some(from)
        }
    }

    /// The content split into the `wxid:\n` prefix of a group message and the rest. The prefix
    /// is only looked for when `FromUserName` is a group, and only taken when it looks like an
    /// id (letters, digits, `_`, `-`, `@`, `.`).
    pub fn split_content(&self) -> (Option<&str>, &str) {
        let content = self.content();
        if !self.from_user().is_some_and(is_chatroom) {
            return (None, content);
        }
        match content.split_once(":\n") {
            Some((who, rest)) if looks_like_wxid(who) => (Some(who), rest),
            _ => (None, content),
        }
    }

    /// The content without a group message's `wxid:\n` prefix: the text of a text message, the
    /// XML of the others.
    pub fn body(&self) -> &str {
        self.split_content().1
    }

    /// Whether the bot sent this message itself (from its phone; messages sent through the API
    /// come back as no callback): `FromUserName` is the envelope's `Wxid`.
    pub fn is_from_self(&self) -> bool {
        matches!((self.from_user(), self.bot_wxid()), (Some(f), Some(b)) if f == b)
    }

    /// The wxids the `<atuserlist>` of `MsgSource` names (`notify@all` for @所有人).
    pub fn at_list(&self) -> Vec<String> {
        let Some(source) = self.msg_source() else {
            return Vec::new();
        };
        let doc = xml::parse(source);
        let Some(list) = doc.descendant("atuserlist") else {
            return Vec::new();
        };
        list.text()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Whether the bot was @-mentioned: its `Wxid` is in the `<atuserlist>` of `MsgSource`, or
    /// `PushContent` says 在群聊中@了你 (which WeChat also sends for @所有人).
    pub fn is_mentioned(&self) -> bool {
        if self
            .push_content()
            .is_some_and(|p| p.contains(MENTIONED_PUSH))
        {
            return true;
        }
        match self.bot_wxid() {
            Some(bot) => self.at_list().iter().any(|w| w == bot),
            None => false,
        }
    }

    /// Whether the message @-mentions everyone (@所有人): `notify@all` is in `<atuserlist>`.
    pub fn mentions_all(&self) -> bool {
        self.at_list().iter().any(|w| w == NOTIFY_ALL)
    }

    /// The trimmed text of the element at `path` (`a/b/c`, from the document root) of the XML
    /// in [`Message::body`], e.g. `msg/appmsg/title`; entities and CDATA decoded.
    pub fn xml_text(&self, path: &str) -> Option<String> {
        xml::parse(self.body()).path(path).map(xml::Element::text)
    }

    /// The attribute `name` of the element at `path` of the XML in [`Message::body`], e.g.
    /// `xml_attr("msg/img", "md5")`.
    pub fn xml_attr(&self, path: &str, name: &str) -> Option<String> {
        xml::parse(self.body())
            .path(path)
            .and_then(|e| e.attr(name))
            .map(str::to_string)
    }
}

/// An app message (`MsgType` 49): the [`Message`] (it derefs to it) and what the `<appmsg>` XML
/// says.
#[derive(Debug, Clone, PartialEq)]
pub struct AppMessage {
    message: Message,
    app_type: Option<i64>,
    title: String,
    description: String,
    url: String,
}

impl AppMessage {
    /// The message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// `msg/appmsg/type`: 5 link, 6 file, 19 chat history, 33/36 mini program, 51 Channels,
    /// 57 quote, 74 file being sent, 2000 transfer, 2001 red packet, …
    pub fn app_type(&self) -> Option<i64> {
        self.app_type
    }

    /// `msg/appmsg/title` (the file name, for a file; the reply text, for a quote).
    pub fn title(&self) -> Option<&str> {
        Some(self.title.as_str()).filter(|s| !s.is_empty())
    }

    /// `msg/appmsg/des`.
    pub fn description(&self) -> Option<&str> {
        Some(self.description.as_str()).filter(|s| !s.is_empty())
    }

    /// `msg/appmsg/url`.
    pub fn url(&self) -> Option<&str> {
        Some(self.url.as_str()).filter(|s| !s.is_empty())
    }

    /// The text of `path` below `<appmsg>` (e.g. `appattach/fileext`, `weappinfo/pagepath`).
    pub fn appmsg_text(&self, path: &str) -> Option<String> {
        let doc = xml::parse(self.message.body());
        doc.descendant("appmsg")?.path(path).map(xml::Element::text)
    }

    /// For a quote, the `NewMsgId` of the quoted message (`refermsg/svrid`), exact.
    pub fn quoted_new_msg_id(&self) -> Option<Id> {
        self.appmsg_text("refermsg/svrid")?.parse().ok()
    }

    /// For a quote, who sent the quoted message (`refermsg/chatusr`, else `refermsg/fromusr`).
    pub fn quoted_sender(&self) -> Option<String> {
        ["refermsg/chatusr", "refermsg/fromusr"]
            .into_iter()
            .filter_map(|p| self.appmsg_text(p))
            .find(|s| !s.is_empty())
    }
}

impl Deref for AppMessage {
    type Target = Message;

    fn deref(&self) -> &Message {
        &self.message
    }
}

/// A system message (`MsgType` 10000, plain text, or 10002, XML): the [`Message`] (it derefs to
/// it) and what its notice says.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemMessage {
    message: Message,
    sys_type: Option<String>,
    text: String,
}

impl SystemMessage {
    /// The message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// The `type` attribute of `<sysmsg>` (`revokemsg`, `pat`, `sysmsgtemplate`, …); `None`
    /// for a plain-text notice (`MsgType` 10000).
    pub fn sys_type(&self) -> Option<&str> {
        self.sys_type.as_deref()
    }

    /// The notice as a person reads it: the plain text (10000), or the XML's revoke notice,
    /// template (`$name$` placeholders filled with nicknames), plain text or content.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The wxids of the members a group notice names (`<memberlist>`): who was removed,
    /// invited, or dismissed the group.
    pub fn members(&self) -> Vec<String> {
        let doc = xml::parse(self.message.body());
        let mut out: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for list in doc.descendants("memberlist") {
            for user in list.descendants("username") {
                let wxid = user.text();
                if !wxid.is_empty() && seen.insert(wxid.clone()) {
                    out.push(wxid);
                }
            }
        }
        out
    }

    fn sysmsg_text(&self, parent: &str, child: &str) -> Option<String> {
        let doc = xml::parse(self.message.body());
        let text = doc.descendant(parent)?.child(child)?.text();
        Some(text).filter(|t| !t.is_empty())
    }

    /// For a revoke, the `MsgId` of the revoked message, exact.
    pub fn revoked_msg_id(&self) -> Option<Id> {
        self.sysmsg_text("revokemsg", "msgid")?.parse().ok()
    }

    /// For a revoke, the `NewMsgId` of the revoked message, exact.
    pub fn revoked_new_msg_id(&self) -> Option<Id> {
        self.sysmsg_text("revokemsg", "newmsgid")?.parse().ok()
    }

    /// For a pat, who patted (`pat/fromusername`).
    pub fn patter(&self) -> Option<String> {
        self.sysmsg_text("pat", "fromusername")
    }

    /// For a pat, who was patted (`pat/pattedusername`).
    pub fn patted(&self) -> Option<String> {
        self.sysmsg_text("pat", "pattedusername")
    }
}

impl Deref for SystemMessage {
    type Target = Message;

    fn deref(&self) -> &Message {
        &self.message
    }
}

/// A contact or group changed (`TypeName` `ModContacts`): the typed `Data` and the whole
/// delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactChange {
    data: Box<CallbackModContacts>,
    raw: Value,
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
        self.user_name().is_some_and(is_chatroom)
    }
}

/// A contact was removed (`TypeName` `DelContacts`): the typed `Data` and the whole delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactDeletion {
    data: CallbackDelContacts,
    raw: Value,
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
        self.user_name().is_some_and(is_chatroom)
    }
}

/// The account went offline (`TypeName` `Offline`).
#[derive(Debug, Clone, PartialEq)]
pub struct OfflineNotice {
    data: CallbackOffline,
    raw: Value,
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
    data: CallbackTestMessage,
    raw: Value,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fills(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_template_is_filled_once() {
        let f = fills(&[("names", "$names$$names$"), ("adder", "Alice")]);
        assert_eq!(
            fill_template("\"$adder$\"邀请\"$names$\"加入了群聊", &f, 1000),
            "\"Alice\"邀请\"$names$$names$\"加入了群聊"
        );
        // A `$` that opens no known placeholder is text, and its partner may open one.
        assert_eq!(fill_template("$x$adder$ $", &f, 1000), "$xAlice $");
        assert_eq!(
            fill_template("no placeholders", &f, 1000),
            "no placeholders"
        );
    }

    #[test]
    fn a_filled_template_stays_within_its_limit() {
        let f = fills(&[("n", "0123456789")]);
        let template = "$n$".repeat(100);
        let text = fill_template(&template, &f, 55);
        assert!(text.starts_with("0123456789012345678901234567890123456789012345678"));
        assert!(text.len() <= 55 + template.len(), "{}", text.len());
        assert!(text.ends_with("$n$"));
    }
}
