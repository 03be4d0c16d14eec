//! [`Filter`]: which events a handler takes, beyond their kind.

use crate::events::Event;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

type Predicate = dyn Fn(&Event) -> bool + Send + Sync;

/// A test on an event, for [`Bot::on`](super::Bot::on). Filters combine with
/// [`and`](Self::and), [`or`](Self::or) and [`not`](Self::not).
///
/// ```
/// use gewe::bot::Filter;
/// let filter = Filter::group().and(Filter::mentioned()).and(Filter::regex(r"^(hi|你好)")?);
/// # Ok::<(), gewe::Error>(())
/// ```
#[derive(Clone)]
pub struct Filter(Arc<Predicate>);

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Filter")
    }
}

impl Filter {
    /// A filter from any test.
    pub fn new(test: impl Fn(&Event) -> bool + Send + Sync + 'static) -> Self {
        Filter(Arc::new(test))
    }

    /// Every event.
    pub fn any() -> Self {
        Filter::new(|_| true)
    }

    /// Messages in a one-to-one chat.
    pub fn private() -> Self {
        Filter::new(|e| e.as_message().is_some_and(|m| m.is_private()))
    }

    /// Messages in a group.
    pub fn group() -> Self {
        Filter::new(Event::is_group)
    }

    /// Messages that @-mention the bot ([`Message::is_mentioned`](crate::events::Message::is_mentioned)).
    pub fn mentioned() -> Self {
        Filter::new(Event::is_mentioned)
    }

    /// Messages whose sender is one of `wxids` (in a group, the member who wrote).
    pub fn from<I, S>(wxids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let allowed: HashSet<String> = wxids.into_iter().map(Into::into).collect();
        Filter::new(move |e| e.sender().is_some_and(|s| allowed.contains(s)))
    }

    /// Messages in the chat `chat_id` (a group's id, or a friend's wxid).
    pub fn chat(chat_id: impl Into<String>) -> Self {
        let chat = chat_id.into();
        Filter::new(move |e| e.chat_id() == Some(chat.as_str()))
    }

    /// Text messages whose text (without a group message's `wxid:` prefix) matches `pattern`,
    /// in the syntax of the `regex` crate (Unicode-aware, no look-around).
    ///
    /// # Errors
    /// [`BotError::InvalidSetting`](super::BotError::InvalidSetting) naming the pattern when it
    /// is not a valid regular expression.
    pub fn regex(pattern: &str) -> crate::Result<Self> {
        let regex =
            regex_lite::Regex::new(pattern).map_err(|e| super::BotError::InvalidSetting {
                name: "Filter::regex",
                value: pattern.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Filter::new(move |e| match e {
            Event::Text(m) => regex.is_match(m.body()),
            _ => false,
        }))
    }

    /// Both this and `other`.
    pub fn and(self, other: Filter) -> Self {
        Filter::new(move |e| (self.0)(e) && (other.0)(e))
    }

    /// This or `other`.
    pub fn or(self, other: Filter) -> Self {
        Filter::new(move |e| (self.0)(e) || (other.0)(e))
    }

    /// Not this.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Self {
        Filter::new(move |e| !(self.0)(e))
    }

    /// Whether `event` passes.
    pub fn test(&self, event: &Event) -> bool {
        (self.0)(event)
    }
}
