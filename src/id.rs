//! GeWe's 64-bit ids, exact.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A GeWe id (`newMsgId`, `msgId`, `snsId`, `objectId`, `commentId`, finder `id`, `maxId`, …).
///
/// GeWe's ids are 64-bit, often above 2^53 and sometimes above `i64::MAX`, so they never pass
/// through `f64`. An `Id` holds any `i64` or `u64` and serializes to the same digits it was read
/// from, so an id passed back (for instance to `revokeMsg`) is exactly the one received. A digit
/// string is accepted too and sent back as a string.
///
/// ```
/// let id: gewe::Id = serde_json::from_str("14381299491553024123").unwrap();
/// assert_eq!(id.as_u64(), Some(14381299491553024123));
/// assert_eq!(serde_json::to_string(&id).unwrap(), "14381299491553024123");
/// ```
///
/// Ids compare, hash and sort by value: `7` and `"7"` are the same id, so a store keyed by ids
/// (or the webhook's dedup window) sees one message whichever form a delivery used. The form is
/// kept only to write the id back.
///
/// ```
/// let number: gewe::Id = serde_json::from_str("7").unwrap();
/// let text: gewe::Id = serde_json::from_str("\"7\"").unwrap();
/// assert_eq!(number, text);
/// assert_eq!(serde_json::to_string(&text).unwrap(), "\"7\"");
/// ```
#[derive(Clone, Copy)]
pub struct Id(Repr);

#[derive(Clone, Copy)]
enum Repr {
    Negative(i64),
    Unsigned(u64),
    /// Came as a JSON string of digits; sent back as one.
    Text {
        negative: bool,
        magnitude: u64,
    },
}

impl Id {
    /// The id as `u64`, if it is not negative.
    pub fn as_u64(&self) -> Option<u64> {
        match self.0 {
            Repr::Unsigned(u)
            | Repr::Text {
                negative: false,
                magnitude: u,
            } => Some(u),
            _ => None,
        }
    }

    /// The id as `i64`, if it fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            Repr::Negative(i) => Some(i),
            Repr::Unsigned(u)
            | Repr::Text {
                negative: false,
                magnitude: u,
            } => i64::try_from(u).ok(),
            Repr::Text {
                negative: true,
                magnitude,
            } => 0i64.checked_sub_unsigned(magnitude),
        }
    }

    /// Whether GeWe sent this id as a JSON string.
    pub fn is_string(&self) -> bool {
        matches!(self.0, Repr::Text { .. })
    }

    /// The value, whatever form it was read in: every `i64` and `u64` fits, and so does a
    /// digit string's `-magnitude`.
    pub(crate) fn value(&self) -> i128 {
        match self.0 {
            Repr::Negative(i) => i128::from(i),
            Repr::Unsigned(u) => i128::from(u),
            Repr::Text {
                negative,
                magnitude,
            } => {
                let m = i128::from(magnitude);
                if negative {
                    -m
                } else {
                    m
                }
            }
        }
    }
}

impl PartialEq for Id {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl Eq for Id {}

impl std::hash::Hash for Id {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value().hash(state);
    }
}

impl PartialOrd for Id {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Id {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value().cmp(&other.value())
    }
}

impl From<u64> for Id {
    fn from(v: u64) -> Self {
        Id(Repr::Unsigned(v))
    }
}

impl From<i64> for Id {
    fn from(v: i64) -> Self {
        if v < 0 {
            Id(Repr::Negative(v))
        } else {
            Id(Repr::Unsigned(v as u64))
        }
    }
}

impl FromStr for Id {
    type Err = ParseIdError;

    /// Parses decimal digits, optionally with a leading `-`; the id serializes as a number.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match parse_digits(s) {
            Some((false, m)) => Ok(Id(Repr::Unsigned(m))),
            Some((true, m)) => 0i64
                .checked_sub_unsigned(m)
                .map(|i| Id(Repr::Negative(i)))
                .ok_or(ParseIdError),
            None => Err(ParseIdError),
        }
    }
}

fn parse_digits(s: &str) -> Option<(bool, u64)> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok().map(|m| (negative, m))
}

/// The text is not a 64-bit decimal id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseIdError;

impl fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a 64-bit decimal id")
    }
}

impl std::error::Error for ParseIdError {}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::Negative(i) => write!(f, "{i}"),
            Repr::Unsigned(u) => write!(f, "{u}"),
            Repr::Text {
                negative,
                magnitude,
            } => write!(f, "{}{magnitude}", if negative { "-" } else { "" }),
        }
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_string() {
            write!(f, "Id(\"{self}\")")
        } else {
            write!(f, "Id({self})")
        }
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Repr::Negative(i) => s.serialize_i64(i),
            Repr::Unsigned(u) => s.serialize_u64(u),
            Repr::Text { .. } => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a 64-bit integer id or a string of its digits")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id::from(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id::from(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Id, E> {
                // An id that arrives as a float has already lost its digits: refuse it.
                Err(E::invalid_type(de::Unexpected::Float(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                parse_digits(v)
                    .map(|(negative, magnitude)| {
                        Id(Repr::Text {
                            negative,
                            magnitude,
                        })
                    })
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(IdVisitor)
    }
}

impl schemars::JsonSchema for Id {
    fn schema_name() -> String {
        "GeweId".into()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        use schemars::schema::{InstanceType, Metadata, SchemaObject, SingleOrVec};
        SchemaObject {
            metadata: Some(Box::new(Metadata {
                description: Some(
                    "A 64-bit GeWe id (any i64 or u64), or a string of its digits".into(),
                ),
                ..Default::default()
            })),
            instance_type: Some(SingleOrVec::Vec(vec![
                InstanceType::Integer,
                InstanceType::String,
            ])),
            ..Default::default()
        }
        .into()
    }
}
