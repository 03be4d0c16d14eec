//! The message payloads: [`Message`], and the [`AppMessage`] and [`SystemMessage`] that wrap
//! one with what their XML says.

use super::codes::{AppType, MsgType, SysType};
use super::{delivery, xml};
use crate::types::CallbackAddMsg;
use crate::Id;
use serde_json::Value;
use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

/// What WeChat puts in `PushContent` when the account is @-mentioned in a group.
const MENTIONED_PUSH: &str = "在群聊中@了你";
/// The `<atuserlist>` entry of an @所有人 mention.
const NOTIFY_ALL: &str = "notify@all";

/// A new message (`TypeName` `AddMsg`): the typed `Data` and the whole delivery.
///
/// `Data` is read in GeWe's documented form whatever the delivery's shape (see the [module
/// docs](super)). The XML of the body and of `MsgSource` is parsed at most once, on first use.
#[derive(Clone)]
pub struct Message {
    // Boxed, as are the other typed payloads: an `Event` stays small to move around.
    inner: Box<Parsed>,
    raw: Value,
}

#[derive(Clone)]
struct Parsed {
    data: CallbackAddMsg,
    /// The XML of [`Message::body`], once parsed.
    body_xml: OnceLock<xml::Element>,
    /// The `<atuserlist>` of `MsgSource`, once read.
    at_list: OnceLock<Vec<String>>,
}

impl PartialEq for Message {
    /// The delivery and its typed `Data`; what was parsed from them is not compared.
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw && self.inner.data == other.inner.data
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("data", &self.inner.data)
            .field("raw", &self.raw)
            .finish()
    }
}

impl Message {
    pub(super) fn new(data: CallbackAddMsg, raw: Value) -> Self {
        Message {
            inner: Box::new(Parsed {
                data,
                body_xml: OnceLock::new(),
                at_list: OnceLock::new(),
            }),
            raw,
        }
    }

    /// Keeps the body's XML that classification parsed, so that no accessor parses it again.
    pub(super) fn keep_xml(&self, doc: xml::Element) {
        let _ = self.inner.body_xml.set(doc);
    }

    pub(super) fn into_raw(self) -> Value {
        self.raw
    }

    fn xml(&self) -> &xml::Element {
        self.inner.body_xml.get_or_init(|| xml::parse(self.body()))
    }

    /// `Data`, typed.
    pub fn data(&self) -> &CallbackAddMsg {
        &self.inner.data
    }

    /// The whole delivery, as received.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// The envelope's `Appid`: the device.
    pub fn app_id(&self) -> Option<&str> {
        delivery::app_id(&self.raw)
    }

    /// The envelope's `Wxid`: the bot's own account.
    pub fn bot_wxid(&self) -> Option<&str> {
        delivery::bot_wxid(&self.raw)
    }

    /// `Data.MsgType`.
    pub fn msg_type(&self) -> Option<MsgType> {
        self.inner.data.msg_type.map(MsgType::from_code)
    }

    /// `Data.MsgId`, exact.
    pub fn msg_id(&self) -> Option<Id> {
        self.inner.data.msg_id
    }

    /// `Data.NewMsgId`, the message's unique id, exact. With [`Message::app_id`] it is the
    /// key to deduplicate deliveries by.
    pub fn new_msg_id(&self) -> Option<Id> {
        self.inner.data.new_msg_id
    }

    /// `Data.CreateTime`, a Unix time in seconds.
    pub fn create_time(&self) -> Option<i64> {
        self.inner.data.create_time
    }

    /// `Data.FromUserName.string`: the sender's wxid, or the group's id for a group message.
    pub fn from_user(&self) -> Option<&str> {
        self.inner.data.from_user_name.as_ref()?.string.as_deref()
    }

    /// `Data.ToUserName.string`: the receiver's wxid (or the group, for the bot's own group
    /// messages).
    pub fn to_user(&self) -> Option<&str> {
        self.inner.data.to_user_name.as_ref()?.string.as_deref()
    }

    /// `Data.Content.string` as sent, with a group message's `wxid:\n` prefix; `""` when absent.
    pub fn content(&self) -> &str {
        self.inner
            .data
            .content
            .as_ref()
            .and_then(|c| c.string.as_deref())
            .unwrap_or("")
    }

    /// `Data.PushContent`, the notification text (some kinds have none).
    pub fn push_content(&self) -> Option<&str> {
        self.inner.data.push_content.as_deref()
    }

    /// `Data.MsgSource`, XML about the message.
    pub fn msg_source(&self) -> Option<&str> {
        self.inner.data.msg_source.as_deref()
    }

    /// Whether the chat is a group: `FromUserName` (or, for the bot's own messages,
    /// `ToUserName`) is a group's id ([`crate::is_group`]).
    pub fn is_group(&self) -> bool {
        self.from_user().is_some_and(crate::is_group) || self.to_user().is_some_and(crate::is_group)
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
        if let Some(group) = from.filter(|f| crate::is_group(f)) {
            return Some(group);
        }
        if let Some(group) = to.filter(|t| crate::is_group(t)) {
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
        if crate::is_group(from) {
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
        if !self.from_user().is_some_and(crate::is_group) {
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
    pub fn at_list(&self) -> &[String] {
        self.inner.at_list.get_or_init(|| {
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
        })
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
        self.xml().path(path).map(xml::Element::text)
    }

    /// The attribute `name` of the element at `path` of the XML in [`Message::body`], e.g.
    /// `xml_attr("msg/img", "md5")`.
    pub fn xml_attr(&self, path: &str, name: &str) -> Option<String> {
        self.xml()
            .path(path)
            .and_then(|e| e.attr(name))
            .map(str::to_string)
    }
}

/// Whether `s` can be the `wxid` of a group message's `wxid:\n` prefix.
fn looks_like_wxid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'@' | b'.'))
}

/// An app message (`MsgType` 49): the [`Message`] (it derefs to it) and what the `<appmsg>` XML
/// says.
#[derive(Debug, Clone, PartialEq)]
pub struct AppMessage {
    pub(super) message: Message,
    pub(super) app_type: Option<AppType>,
    pub(super) inner_type: Option<AppType>,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) url: String,
}

impl AppMessage {
    /// The message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// `msg/appmsg/type`: 5 link, 6 file, 19 chat history, 33/36 mini program, 51 Channels,
    /// 57 quote, 74 file being sent, 2000 transfer, 2001 red packet, … ([`AppType`]).
    pub fn app_type(&self) -> Option<AppType> {
        self.app_type.clone()
    }

    /// `msg/appmsg/realinnertype`: what a forwarded item ([`AppType::Forwarded`]) holds, e.g.
    /// [`AppType::ChatHistory`] for a saved chat record forwarded on.
    pub fn inner_type(&self) -> Option<AppType> {
        self.inner_type.clone()
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
        self.message
            .xml()
            .descendant("appmsg")?
            .path(path)
            .map(xml::Element::text)
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
    pub(super) message: Message,
    pub(super) sys_type: Option<SysType>,
    pub(super) text: String,
}

impl SystemMessage {
    /// The message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// The `type` attribute of `<sysmsg>` (`revokemsg`, `pat`, `sysmsgtemplate`, …: a
    /// [`SysType`]); `None` for a plain-text notice (`MsgType` 10000).
    pub fn sys_type(&self) -> Option<&SysType> {
        self.sys_type.as_ref()
    }

    /// The notice as a person reads it: the plain text (10000), or the XML's revoke notice,
    /// template (`$name$` placeholders filled with nicknames), plain text or content.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The wxids of the members a group notice names (`<memberlist>`): who was removed,
    /// invited, or dismissed the group.
    pub fn members(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for list in self.message.xml().descendants("memberlist") {
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
        let text = self.message.xml().descendant(parent)?.child(child)?.text();
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
