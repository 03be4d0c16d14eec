//! Routing: which handler takes an event, and what it is given.
//!
//! Routes are tried in the order they were added; the first whose kind and filter match takes
//! the event, and no other route sees it. The bot's own messages (sent from its phone, they
//! come back as callbacks) reach no route unless [`Bot::own_messages`](super::Bot::own_messages)
//! asks for them.

use super::command::BotCommands;
use super::context::Context;
use super::dispatch::Input;
use super::filter::Filter;
use super::health::StateChange;
use super::shared::Shared;
use crate::events::{Event, Message};
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

/// What a handler returns: `Ok(())`, or any error, which the bot logs and counts.
pub type HandlerResult = Result<(), HandlerError>;

/// Any error a handler returns; `?` converts into it.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

type HandlerFuture = Pin<Box<dyn Future<Output = HandlerResult> + Send>>;
type RouteFn = dyn Fn(&Context, &Event) -> Option<HandlerFuture> + Send + Sync;
type StateFn = dyn Fn(Context, StateChange) -> HandlerFuture + Send + Sync;

/// What a handler can be given from an event: its kind, taken out. A route of this type only
/// sees events of its kind.
pub trait FromEvent: Sized + Send + 'static {
    /// The value, when `event` is of this kind.
    fn from_event(event: &Event) -> Option<Self>;
}

impl FromEvent for Event {
    fn from_event(event: &Event) -> Option<Self> {
        Some(event.clone())
    }
}

impl FromEvent for Message {
    fn from_event(event: &Event) -> Option<Self> {
        event.as_message().cloned()
    }
}

/// Declares a message kind a handler can take by type.
macro_rules! message_kind {
    ($(#[$meta:meta])* $name:ident = $variant:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name(Message);

        impl $name {
            /// The message.
            pub fn into_message(self) -> Message {
                self.0
            }
        }

        impl Deref for $name {
            type Target = Message;

            fn deref(&self) -> &Message {
                &self.0
            }
        }

        impl FromEvent for $name {
            fn from_event(event: &Event) -> Option<Self> {
                match event {
                    Event::$variant(m) => Some($name(m.clone())),
                    _ => None,
                }
            }
        }
    };
}

message_kind! {
    /// A text message ([`Event::Text`]); it derefs to the [`Message`], so `msg.body()` is the
    /// text.
    TextMessage = Text
}

message_kind! {
    /// An image ([`Event::Image`]); it derefs to the [`Message`].
    ImageMessage = Image
}

/// Every route of a bot, and its state handlers.
#[derive(Default)]
pub(crate) struct Routes {
    routes: Vec<Arc<RouteFn>>,
    state: Vec<Arc<StateFn>>,
    pub(crate) own_messages: bool,
}

impl Routes {
    /// Adds a route taking `T` from events that pass `filter`.
    pub(crate) fn add<T, H, Fut>(&mut self, filter: Filter, handler: H)
    where
        T: FromEvent,
        H: Fn(Context, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.routes
            .push(Arc::new(move |cx: &Context, event: &Event| {
                if !filter.test(event) {
                    return None;
                }
                let value = T::from_event(event)?;
                Some(Box::pin(handler(cx.clone(), value)) as HandlerFuture)
            }));
    }

    /// Adds a route taking the commands of `C` from text messages.
    pub(crate) fn add_command<C, H, Fut>(&mut self, handler: H)
    where
        C: BotCommands,
        H: Fn(Context, C, TextMessage) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.routes
            .push(Arc::new(move |cx: &Context, event: &Event| {
                let text = TextMessage::from_event(event)?;
                match C::parse(text.body())? {
                    Ok(command) => {
                        Some(Box::pin(handler(cx.clone(), command, text)) as HandlerFuture)
                    }
                    Err(error) => {
                        tracing::debug!(%error, "gewe bot: a command's arguments do not parse");
                        None
                    }
                }
            }));
    }

    pub(crate) fn add_state<H, Fut>(&mut self, handler: H)
    where
        H: Fn(Context, StateChange) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.state
            .push(Arc::new(move |cx, change| Box::pin(handler(cx, change))));
    }

    /// Hands `input` to the first route that takes it, or to every state handler. `Ok(false)`
    /// when none took it.
    pub(crate) async fn handle(
        &self,
        shared: Arc<Shared>,
        delivery: Option<u64>,
        input: Input,
    ) -> Result<bool, HandlerError> {
        match input {
            Input::Event(event) => {
                if event.is_from_self() && !self.own_messages {
                    return Ok(false);
                }
                let event = Arc::new(event);
                let cx = Context::new(shared, Some(Arc::clone(&event)), delivery);
                for route in &self.routes {
                    if let Some(handled) = route(&cx, &event) {
                        handled.await?;
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Input::State(change) => {
                if self.state.is_empty() {
                    return Ok(false);
                }
                let cx = Context::new(shared, None, None);
                let mut first_error = None;
                for handler in &self.state {
                    if let Err(error) = handler(cx.clone(), change.clone()).await {
                        first_error.get_or_insert(error);
                    }
                }
                first_error.map_or(Ok(true), Err)
            }
        }
    }
}
