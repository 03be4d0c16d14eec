//! Exit codes, and what goes to stderr when a command fails.

use std::process::ExitCode;

/// Why a command failed; the README's table of exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Anything else: settings (no token, an unreadable `--token-file`), the mock's address.
    Failure = 1,
    // 2 is clap's: a usage error.
    /// The request is invalid: no such operation, a body that is not JSON or does not fit the
    /// operation's schema. Nothing was sent.
    InvalidRequest = 3,
    /// The request could not be sent (no connection). Nothing reached GeWe.
    NotSent = 4,
    /// GeWe answered with `ret != 200`.
    Gewe = 5,
    /// GeWe rejected the token.
    TokenRejected = 6,
    /// GeWe answered, but the answer cannot be read; the call may have taken effect.
    Unreadable = 7,
    /// The request went out and no answer came back: it may have been carried out.
    OutcomeUnknown = 8,
}

/// A failed command: its exit code and the message for stderr.
#[derive(Debug)]
pub struct Failure {
    pub code: Code,
    pub message: String,
}

impl Failure {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// Prints the message on stderr and gives the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("gewe: {}", self.message);
        ExitCode::from(self.code as u8)
    }
}

impl From<gewe::Error> for Failure {
    fn from(error: gewe::Error) -> Self {
        let code = code_of(&error);
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        match code {
            Code::OutcomeUnknown => {
                message.push_str("\nthe outcome is unknown: the request may have been carried out; check before sending it again")
            }
            Code::Unreadable => {
                message.push_str("\nGeWe answered, so the call may have taken effect")
            }
            _ => {}
        }
        Failure { code, message }
    }
}

/// The exit code of a library error.
pub fn code_of(error: &gewe::Error) -> Code {
    use gewe::Error;
    if error.is_token_rejected() {
        return Code::TokenRejected;
    }
    if error.as_api().is_some() {
        return Code::Gewe;
    }
    match error {
        Error::InvalidRequest(_) => Code::InvalidRequest,
        Error::Config(_) => Code::Failure,
        Error::Decode(_) | Error::ResponseTooLarge(_) | Error::Status(_) => Code::Unreadable,
        _ if error.may_have_reached_server() => Code::OutcomeUnknown,
        Error::Transport(_) => Code::NotSent,
        _ => Code::Failure,
    }
}
