//! Load, normalize and merge GeWe's apifox exports into one OpenAPI 3.0 document. One file per
//! job, so that a new apifox quirk has an obvious room:
//!
//! - `load`: finding the files under `openapi/` and reading YAML;
//! - `names`: operation and type names from paths, path prefixes, JSON pointers;
//! - `normalize`: one document and its operations, apifox's editor metadata;
//! - `order`: field order, from `x-apifox-orders` or the file;
//! - `schema`: one schema: types, nullability, `required`, defaults;
//! - `examples`: request and response examples, and what they correct in their schema;
//! - `example_text`: examples apifox keeps as text (JSON with comments, several JSON texts);
//! - `constraints`: request constraints the operation's own example breaks;
//! - `merge`: all files into one document.
//!
//! No progenitor dependency, so that tests can include it with `#[path]` and check each rule on
//! its own. Every rule here is general: nothing names an endpoint.

// GeWe's API prefixes and default server, from the file the library reads them from.
#[path = "../../src/api_path.rs"]
pub mod api_path;
mod constraints;
mod example_text;
pub mod examples;
pub mod load;
mod merge;
pub mod names;
mod normalize;
pub mod order;
pub mod schema;

pub use load::{discover, load};
pub use merge::{merge, merge_raw};
pub use names::{escape, is_id_property, pascal_case, snake_case};
pub use normalize::{normalize, Normalized};

use serde_json::Value;
use std::fmt;

/// A broken spec: the file, a JSON pointer into it, and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    pub file: String,
    pub pointer: String,
    pub message: String,
}

impl SpecError {
    pub fn new(file: &str, pointer: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            pointer: pointer.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: at {}: {}", self.file, self.pointer, self.message)
        }
    }
}

type Result<T, E = SpecError> = std::result::Result<T, E>;

/// One spec file as read from disk.
pub struct Source {
    /// Path relative to the crate root, with `/` separators, for messages.
    pub file: String,
    /// The folder under `openapi/` the file sits in: the docs module.
    pub module: Option<String>,
    pub doc: Value,
}
