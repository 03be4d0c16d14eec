//! [`Context`]: what a handler is given besides the event: the device, the chat, the store, and
//! the replies.

use super::calls::Call;
use super::error::BotError;
use super::health::DeviceState;
use super::send::Receipt;
use super::shared::Shared;
use super::store::{SendKey, SendOutcome, Store};
use crate::events::Event;
use crate::{Client, Device};
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// A handler's view of the bot: the device, the event's chat, the store, and replies that go
/// through the device's paced send queue.
///
/// Sends made while handling a journaled delivery go out at most once: each is recorded before
/// it goes out, keyed by the delivery and its place among the handler's sends, so a handler run
/// again after a crash gets the recorded result instead of sending again (see
/// [`BotError::OutcomeUnknown`]). A re-run whose sends come in another order gets
/// [`BotError::SendMismatch`] for a send whose place holds another send, and sends nothing.
/// Cheap to clone.
#[derive(Clone)]
pub struct Context {
    shared: Arc<Shared>,
    event: Option<Arc<Event>>,
    delivery: Option<u64>,
    sends: Arc<AtomicU32>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("app_id", &self.shared.app_id)
            .field("chat_id", &self.chat_id())
            .field("delivery", &self.delivery)
            .finish_non_exhaustive()
    }
}

impl Context {
    pub(crate) fn new(
        shared: Arc<Shared>,
        event: Option<Arc<Event>>,
        delivery: Option<u64>,
    ) -> Self {
        Context {
            shared,
            event,
            delivery,
            sends: Arc::new(AtomicU32::new(0)),
        }
    }

    /// The device (`appId`).
    pub fn app_id(&self) -> &str {
        &self.shared.app_id
    }

    /// The bot's own wxid, once logged in.
    pub fn bot_wxid(&self) -> Option<String> {
        self.shared.wxid()
    }

    /// The device, for any GeWe call of it (`cx.device().contacts().get_brief_info(..)`).
    /// Calls made through it directly are not paced nor recorded: send messages through the
    /// context's methods.
    pub fn device(&self) -> &Device {
        &self.shared.device
    }

    /// The client, for any GeWe call. Calls made through it directly are not paced nor
    /// recorded: send messages through the context's methods.
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// The bot's store.
    pub fn store(&self) -> &dyn Store {
        &*self.shared.store
    }

    /// The device's state now.
    pub fn state(&self) -> DeviceState {
        self.shared.health.state()
    }

    /// The event being handled; `None` in a state handler.
    pub fn event(&self) -> Option<&Event> {
        self.event.as_deref()
    }

    /// The chat replies go to: the group, or the other person of a private chat.
    pub fn chat_id(&self) -> Option<&str> {
        self.event.as_deref().and_then(Event::chat_id)
    }

    fn chat(&self, action: &'static str) -> crate::Result<String> {
        self.chat_id()
            .map(str::to_owned)
            .ok_or_else(|| BotError::NoChat { action }.into())
    }

    /// The key of the next send, for a journaled delivery.
    fn next_key(&self) -> Option<SendKey> {
        let delivery = self.delivery?;
        Some(SendKey {
            delivery,
            index: self.sends.fetch_add(1, Ordering::Relaxed),
        })
    }

    async fn send(&self, call: Call) -> crate::Result<Receipt> {
        self.shared.send(self.next_key(), call).await
    }

    /// Sends `text` to the event's chat.
    ///
    /// # Errors
    /// [`BotError::Offline`] or [`BotError::QueueFull`] at once, without sending;
    /// [`BotError::NoChat`] when the event has no chat; GeWe's error when the send failed.
    pub async fn reply(&self, text: impl Into<String>) -> crate::Result<Receipt> {
        let to = self.chat("reply")?;
        self.send(Call::Text {
            to,
            content: text.into(),
            ats: None,
        })
        .await
    }

    /// Sends `text` to the event's chat, @-mentioning the message's sender: GeWe needs both
    /// the `@nickname` in the text and the wxid in `ats`, so the sender's nickname is looked up
    /// (`/group/getChatroomMemberDetail`) and put first. In a private chat it is a plain
    /// [`reply`](Self::reply).
    ///
    /// # Errors
    /// As [`reply`](Self::reply), and the lookup's error.
    pub async fn reply_at(&self, text: impl Into<String>) -> crate::Result<Receipt> {
        let to = self.chat("reply_at")?;
        let text = text.into();
        let sender = self.event().and_then(Event::sender).map(str::to_owned);
        let Some(sender) = sender.filter(|_| crate::is_group(&to)) else {
            return self.reply(text).await;
        };
        let members = self
            .device()
            .group()
            .get_chatroom_member_detail(to.clone(), [sender.clone()])
            .await?;
        let nick_name = members
            .iter()
            .find(|m| m.user_name.as_deref() == Some(sender.as_str()))
            .or_else(|| members.first())
            .and_then(|m| m.nick_name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| sender.clone());
        self.send(Call::Text {
            to,
            content: format!("@{nick_name} {text}"),
            ats: Some(sender),
        })
        .await
    }

    /// Sends `text` quoting the message being handled (WeChat's 引用, an `<appmsg>` of type 57).
    ///
    /// # Errors
    /// As [`reply`](Self::reply); [`BotError::NoChat`] when the event is not a message.
    pub async fn quote(&self, text: impl Into<String>) -> crate::Result<Receipt> {
        let to = self.chat("quote")?;
        let message = self
            .event()
            .and_then(Event::as_message)
            .ok_or(BotError::NoChat { action: "quote" })?;
        let quoted = Quoted {
            msg_type: message.msg_type().map_or(1, |t| t.code()),
            new_msg_id: message.new_msg_id(),
            sender: message.sender().unwrap_or(&to),
            content: message.body(),
        };
        let appmsg = quoted.appmsg(&text.into(), &to);
        self.send(Call::AppMsg { to, appmsg }).await
    }

    /// Sends `text` quoting a text message the bot sent, in that message's chat: one from
    /// [`recent_sends`](Self::recent_sends), or the [`Receipt`] of a send in this handler.
    /// GeWe sends no callback for the bot's own messages, so the text quoted is the one the
    /// store recorded with the send ([`Receipt::text`]); the chat's last send may be an image
    /// or a quote, so look for the last one with a text.
    ///
    /// ```no_run
    /// # async fn f(cx: gewe::bot::Context) -> gewe::Result<()> {
    /// let asked = cx.reply("明天几点开会？").await?;
    /// cx.quote_sent(&asked, "请回复这条").await?;
    ///
    /// // In a later handler, after a restart too: the bot's last text in this chat.
    /// let last_text = cx.recent_sends(20).await?.into_iter().find(|r| r.text.is_some());
    /// if let Some(last) = last_text {
    ///     cx.quote_sent(&last, "再提醒一次").await?;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`reply`](Self::reply); [`BotError::NotQuotable`] when `sent` has no text or
    /// GeWe's answer to it lacked `newMsgId`, or the bot's wxid is not known yet.
    pub async fn quote_sent(
        &self,
        sent: &Receipt,
        text: impl Into<String>,
    ) -> crate::Result<Receipt> {
        let not_quotable = |why: &'static str| BotError::NotQuotable {
            to_wxid: sent.to_wxid.clone(),
            why,
        };
        let content = sent.text.as_deref().ok_or(not_quotable(
            "no text was recorded with it (not a text send, or recorded before texts were kept)",
        ))?;
        if sent.new_msg_id.is_none() {
            return Err(not_quotable("GeWe's answer to the send lacked newMsgId").into());
        }
        // The delivery names the account it came to; a login names it too.
        let bot = self
            .event()
            .and_then(Event::bot_wxid)
            .map(str::to_owned)
            .or_else(|| self.shared.wxid())
            .ok_or(not_quotable("the bot's wxid is not known yet"))?;
        let quoted = Quoted {
            msg_type: 1,
            new_msg_id: sent.new_msg_id,
            sender: &bot,
            content,
        };
        let to = sent.to_wxid.clone();
        let appmsg = quoted.appmsg(&text.into(), &to);
        self.send(Call::AppMsg { to, appmsg }).await
    }

    /// Sends the image at `url` to the event's chat.
    ///
    /// # Errors
    /// As [`reply`](Self::reply).
    pub async fn reply_image(&self, url: impl Into<String>) -> crate::Result<Receipt> {
        let to = self.chat("reply_image")?;
        self.send(Call::Image {
            to,
            url: url.into(),
        })
        .await
    }

    /// Sends the file at `url`, named `name`, to the event's chat.
    ///
    /// # Errors
    /// As [`reply`](Self::reply).
    pub async fn reply_file(
        &self,
        url: impl Into<String>,
        name: impl Into<String>,
    ) -> crate::Result<Receipt> {
        let to = self.chat("reply_file")?;
        self.send(Call::File {
            to,
            url: url.into(),
            name: name.into(),
        })
        .await
    }

    /// Sends `text` to any chat (a friend's wxid or a group's id), through the same paced
    /// queue.
    ///
    /// # Errors
    /// As [`reply`](Self::reply).
    pub async fn send_text(
        &self,
        to_wxid: impl Into<String>,
        text: impl Into<String>,
    ) -> crate::Result<Receipt> {
        self.send(Call::Text {
            to: to_wxid.into(),
            content: text.into(),
            ats: None,
        })
        .await
    }

    /// The messages the bot sent to the event's chat from its handlers, newest first, at most
    /// `limit`: GeWe sends no callback for them, so the store's send records are where they
    /// are found again, across restarts, for [`revoke`](Self::revoke). Only sends GeWe
    /// accepted count; records older than the [retention](super::Bot::retention) are gone.
    ///
    /// ```no_run
    /// # async fn f(cx: gewe::bot::Context) -> gewe::Result<()> {
    /// // A `/undo` command: take back the bot's last message in this chat.
    /// if let Some(last) = cx.recent_sends(1).await?.pop() {
    ///     cx.revoke(&last).await?;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`BotError::NoChat`] in a handler whose event has no chat; the store's error.
    pub async fn recent_sends(&self, limit: usize) -> crate::Result<Vec<Receipt>> {
        let chat = self.chat("look up sends")?;
        let records = self.shared.store.sends_to(&chat, limit).await?;
        Ok(records
            .into_iter()
            .filter_map(|(_, record)| match record.outcome {
                Some(SendOutcome::Sent(data)) => {
                    Some(Receipt::from_data(&record.to_wxid, record.text, data))
                }
                _ => None,
            })
            .collect())
    }

    /// Revokes a message the bot sent (WeChat allows it for 2 minutes).
    ///
    /// # Errors
    /// As [`reply`](Self::reply); [`BotError::NotRevocable`] when `sent` lacks GeWe's ids.
    pub async fn revoke(&self, sent: &Receipt) -> crate::Result<Receipt> {
        let (Some(msg_id), Some(new_msg_id), Some(create_time)) =
            (sent.msg_id, sent.new_msg_id, sent.create_time)
        else {
            return Err(BotError::NotRevocable {
                to_wxid: sent.to_wxid.clone(),
            }
            .into());
        };
        self.send(Call::Revoke {
            to: sent.to_wxid.clone(),
            msg_id,
            new_msg_id,
            create_time,
        })
        .await
    }
}

/// The message a quote refers to.
struct Quoted<'a> {
    /// Its `MsgType` code.
    msg_type: i64,
    new_msg_id: Option<crate::Id>,
    /// Who sent it.
    sender: &'a str,
    /// Its text.
    content: &'a str,
}

impl Quoted<'_> {
    /// The `<appmsg>` of a quote of it in `chat`, saying `text`.
    fn appmsg(&self, text: &str, chat: &str) -> String {
        let svrid = self.new_msg_id.map(|id| id.to_string()).unwrap_or_default();
        format!(
            "<appmsg appid=\"\" sdkver=\"0\"><title>{}</title><des></des><type>57</type>\
             <refermsg><type>{}</type><svrid>{svrid}</svrid><fromusr>{}</fromusr>\
             <chatusr>{}</chatusr><content>{}</content></refermsg></appmsg>",
            xml_escape(text),
            self.msg_type,
            xml_escape(chat),
            xml_escape(self.sender),
            xml_escape(self.content),
        )
    }
}

/// `text` as XML character data.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
