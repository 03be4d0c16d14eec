//! The token as a type: never shown, masked wherever GeWe echoes it back.

use serde_json::Value;
use std::fmt;

/// What the token is replaced with in anything shown.
pub(crate) const MASK: &str = "***";

/// A GeWe token. Its `Debug` is redacted and it has no `Display`.
#[derive(Clone)]
pub(crate) struct Token(String);

impl Token {
    pub(crate) fn new(token: String) -> Self {
        Token(token)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the token masked.
    pub(crate) fn mask(&self, text: &str) -> String {
        if self.0.is_empty() || !text.contains(&self.0) {
            return text.to_string();
        }
        text.replace(&self.0, MASK)
    }

    /// Masks the token in every string of a JSON value, keys included.
    pub(crate) fn mask_value(&self, v: &mut Value) {
        match v {
            Value::String(s) if s.contains(&self.0) => *s = self.mask(s),
            Value::Array(items) => items.iter_mut().for_each(|i| self.mask_value(i)),
            Value::Object(map) => {
                if map.keys().any(|k| k.contains(&self.0)) {
                    let old = std::mem::take(map);
                    *map = old.into_iter().map(|(k, v)| (self.mask(&k), v)).collect();
                }
                map.values_mut().for_each(|i| self.mask_value(i));
            }
            _ => {}
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
