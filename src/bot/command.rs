//! Commands: `/name args` parsed into a typed value, declared with [`commands!`](crate::commands).

use std::fmt;

/// A set of commands a bot understands, usually declared with [`commands!`](crate::commands).
pub trait BotCommands: Sized + Send + 'static {
    /// Parses a message's text. `None` when it is not one of these commands, `Some(Err(..))`
    /// when it is one but its arguments do not parse.
    fn parse(text: &str) -> Option<Result<Self, CommandError>>;

    /// One line per command, `/name — what it does`, for a help reply.
    fn help() -> String;
}

/// A command's arguments did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandError {
    /// The command, without its `/`.
    pub command: &'static str,
    /// The arguments given.
    pub args: String,
    /// Why they do not parse.
    pub reason: String,
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/{} cannot take {:?}: {}",
            self.command, self.args, self.reason
        )
    }
}

impl std::error::Error for CommandError {}

/// Splits `/name args` into the name and the trimmed arguments. Leading @-mentions (`@bot `, as
/// WeChat writes them in a group, with a space or U+2005 after the name) are skipped. `None`
/// when the text is not a command.
pub fn split_command(text: &str) -> Option<(&str, &str)> {
    let mut rest = text.trim_start();
    while let Some(after_at) = rest.strip_prefix('@') {
        let end = after_at.find([' ', '\u{2005}'])?;
        rest = after_at[end..].trim_start_matches([' ', '\u{2005}']);
    }
    let rest = rest.strip_prefix('/')?;
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let (name, args) = rest.split_at(end);
    (!name.is_empty()).then(|| (name, args.trim()))
}

/// Declares an enum of commands and its [`BotCommands`] parser. A variant is a command without
/// arguments, or one whose arguments (the rest of the text, trimmed) parse into one value with
/// [`FromStr`](std::str::FromStr). Each variant's doc comment is its line in
/// [`BotCommands::help`].
///
/// ```
/// use gewe::bot::BotCommands;
///
/// gewe::commands! {
///     /// What the bot understands.
///     pub enum Command {
///         /// Shows the commands.
///         Help = "help",
///         /// Rolls a die with this many sides.
///         Roll(u32) = "roll",
///         /// Says the text back.
///         Say(String) = "say",
///     }
/// }
///
/// assert_eq!(Command::parse("/roll 6"), Some(Ok(Command::Roll(6))));
/// assert_eq!(Command::parse("@bot\u{2005}/say hi there"), Some(Ok(Command::Say("hi there".into()))));
/// assert!(matches!(Command::parse("/roll six"), Some(Err(_))));
/// assert_eq!(Command::parse("hello"), None);
/// assert_eq!(Command::parse("/unknown"), None);
/// assert!(Command::help().contains("/roll — Rolls a die with this many sides."));
/// ```
#[macro_export]
macro_rules! commands {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $variant:ident $(($arg:ty))? = $command:literal,
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        $vis enum $name {
            $( $(#[doc = $doc])* $variant $(($arg))?, )+
        }

        impl $crate::bot::BotCommands for $name {
            fn parse(
                text: &str,
            ) -> ::std::option::Option<::std::result::Result<Self, $crate::bot::CommandError>> {
                let (name, args) = $crate::bot::split_command(text)?;
                $(
                    if name == $command {
                        return ::std::option::Option::Some(
                            $crate::__command_value!($name, $variant, $command, args $(, $arg)?),
                        );
                    }
                )+
                ::std::option::Option::None
            }

            fn help() -> ::std::string::String {
                let mut out = ::std::string::String::new();
                $(
                    out.push('/');
                    out.push_str($command);
                    out.push_str(" —");
                    $( out.push_str($doc); )*
                    out.push('\n');
                )+
                out
            }
        }
    };
}

/// One command's value from its arguments; part of [`commands!`](crate::commands).
#[doc(hidden)]
#[macro_export]
macro_rules! __command_value {
    ($name:ident, $variant:ident, $command:literal, $args:ident) => {
        if $args.is_empty() {
            ::std::result::Result::Ok($name::$variant)
        } else {
            ::std::result::Result::Err($crate::bot::CommandError {
                command: $command,
                args: $args.to_owned(),
                reason: "it takes no arguments".to_owned(),
            })
        }
    };
    ($name:ident, $variant:ident, $command:literal, $args:ident, $arg:ty) => {
        $args
            .parse::<$arg>()
            .map($name::$variant)
            .map_err(|e| $crate::bot::CommandError {
                command: $command,
                args: $args.to_owned(),
                reason: e.to_string(),
            })
    };
}
