//! GeWe's envelope, `{ret, msg, data}`: reading the body and telling success from failure.

use crate::error::{ApiError, DecodeError, Error, Result, StatusError};
use crate::token::Token;
use bytes::Bytes;

use progenitor_client::{ByteStream, ResponseValue};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// How much of a body an error shows.
const SNIPPET_BYTES: usize = 512;

/// The envelope with typed `data`: the success path decodes the body once.
#[derive(Deserialize)]
struct Typed<D> {
    ret: i64,
    #[serde(default = "none")]
    data: Option<D>,
}

fn none<D>() -> Option<D> {
    None
}

/// Reads the body, failing as soon as it exceeds `limit` bytes.
pub(crate) async fn read_body(
    operation: &'static str,
    response: ResponseValue<ByteStream>,
    limit: usize,
) -> Result<Bytes> {
    let too_large = || {
        Error::ResponseTooLarge(Box::new(crate::error::ResponseTooLargeError {
            operation: operation.to_owned(),
            limit,
        }))
    };
    if let Some(len) = response.headers().get(reqwest::header::CONTENT_LENGTH) {
        if len
            .to_str()
            .ok()
            .and_then(|l| l.parse::<u64>().ok())
            .is_some_and(|l| l > limit as u64)
        {
            return Err(too_large());
        }
    }
    let mut stream = response.into_inner().into_inner();
    // A small body arrives as one chunk: keep it without copying; join only when there are more.
    let mut first: Option<Bytes> = None;
    let mut body: Vec<u8> = Vec::new();
    while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        let chunk = chunk.map_err(|source| {
            Error::Transport(Box::new(crate::error::TransportError {
                operation: operation.to_owned(),
                source,
            }))
        })?;
        let so_far = first.as_ref().map_or(0, Bytes::len) + body.len();
        let needed = so_far + chunk.len();
        if needed > limit {
            return Err(too_large());
        }
        if first.is_none() && body.is_empty() {
            first = Some(chunk);
            continue;
        }
        // Grow at least twofold, to sizes `limit / 2^k`: the buffer never passes the limit, and
        // the last move (from limit/2 to limit) holds at most 1.5 × the limit while it copies.
        if body.capacity() < needed {
            let want = needed.max(body.capacity().saturating_mul(2));
            let mut target = limit;
            while target / 2 >= want {
                target /= 2;
            }
            body.reserve_exact(target - body.len());
        }
        if let Some(f) = first.take() {
            body.extend_from_slice(&f);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(first.unwrap_or_else(|| Bytes::from(body)))
}

/// Decodes a body: the typed `data` when `ret == 200`, an [`Error`] otherwise.
pub(crate) fn decode<D: DeserializeOwned>(
    operation: &'static str,
    status: StatusCode,
    body: &[u8],
    token: &Token,
) -> Result<D> {
    if status.is_success() {
        match serde_json::from_slice::<Typed<D>>(body) {
            Ok(Typed {
                ret: 200,
                data: Some(data),
            }) => return Ok(data),
            Ok(Typed {
                ret: 200,
                data: None,
            }) => return absent_data(operation, body, token),
            Ok(_) => {}
            Err(source) => {
                return Err(match failure(operation, status, body, token) {
                    Some(api) if api.ret != 200 => Error::Api(Box::new(api)),
                    Some(_) => decode_error(
                        operation,
                        "`data` does not fit the documented type",
                        body,
                        token,
                        Some(source),
                    ),
                    None => decode_error(
                        operation,
                        "the body is not GeWe's {ret, msg, data} envelope",
                        body,
                        token,
                        Some(source),
                    ),
                });
            }
        }
    }
    match failure(operation, status, body, token) {
        Some(api) if api.ret != 200 => Err(Error::Api(Box::new(api))),
        envelope => Err(Error::Status(Box::new(StatusError {
            operation: operation.to_owned(),
            status,
            snippet: snippet(body, token),
            envelope: envelope.map(Box::new),
        }))),
    }
}

/// `ret == 200` with no `data` (or `null`): an object type decodes from `{}`, and an operation
/// without documented data ignores it.
fn absent_data<D: DeserializeOwned>(
    operation: &'static str,
    body: &[u8],
    token: &Token,
) -> Result<D> {
    serde_json::from_value::<D>(Value::Object(Default::default()))
        .or_else(|_| serde_json::from_value::<D>(Value::Null))
        .map_err(|e| {
            decode_error(
                operation,
                "ret is 200 but `data` is missing",
                body,
                token,
                Some(e),
            )
        })
}

fn decode_error(
    operation: &'static str,
    reason: &str,
    body: &[u8],
    token: &Token,
    source: Option<serde_json::Error>,
) -> Error {
    Error::Decode(Box::new(DecodeError {
        operation: operation.to_owned(),
        reason: reason.to_string(),
        snippet: snippet(body, token),
        // serde quotes the rejected value, which may be the token GeWe echoed.
        source: source.map(|e| crate::error::Cause(token.mask(&e.to_string()))),
    }))
}

/// Reads any envelope, whatever `data` holds. `None` when the body is not one.
///
/// Only `ret`, `msg` and `data` (and, inside `data`, `code` and `msg`) are read; every other
/// field is skipped unparsed, as the success path skips it, so that a field nobody reads (an
/// out-of-range number, say) cannot hide GeWe's `ret` and `msg`. Invalid UTF-8 is replaced.
pub(crate) fn failure(
    operation: &'static str,
    status: StatusCode,
    body: &[u8],
    token: &Token,
) -> Option<ApiError> {
    let text = String::from_utf8_lossy(body);
    let head: Fields<'_> = serde_json::from_str(&text).ok()?;
    let ret = match parse(head.get("ret")?)? {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    let msg = head.get("msg").and_then(|raw| match parse(raw) {
        Some(Value::String(s)) => Some(token.mask(&s)),
        Some(Value::Null) => None,
        Some(other) => Some(token.mask(&other.to_string())),
        None => Some(token.mask(raw.get())),
    });
    let data = head.get("data").filter(|d| d.get() != "null");
    // `data` whole, when it parses; its `code` and `msg` even when it does not.
    let inner = data.and_then(|d| serde_json::from_str::<Fields<'_>>(d.get()).ok());
    let field = |k: &str| match parse(inner.as_ref()?.get(k)?)? {
        Value::String(s) => Some(token.mask(&s)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let data = data.and_then(parse);
    Some(ApiError {
        operation: operation.to_owned(),
        status,
        ret,
        msg,
        code: field("code"),
        detail: field("msg"),
        data: data.map(|mut d| {
            token.mask_value(&mut d);
            d
        }),
    })
}

/// A JSON object's members as raw text, unparsed; of a repeated key, the last (as `Value` reads
/// it). Not an object: an error.
struct Fields<'a>(Vec<(String, &'a RawValue)>);

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Fields<'de>, A::Error> {
                let mut fields = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    fields.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Fields(fields))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// One member's value, when `Value` can hold it (not a number beyond `f64`'s range).
fn parse(raw: &RawValue) -> Option<Value> {
    serde_json::from_str(raw.get()).ok()
}

/// The start of a body for an error message, token masked.
pub(crate) fn snippet(body: &[u8], token: &Token) -> String {
    // Mask before cutting, so that a token straddling the cut never shows in part.
    let window = body.len().min(SNIPPET_BYTES + token.expose().len());
    let masked = token.mask(&String::from_utf8_lossy(&body[..window]));
    let mut end = masked.len().min(SNIPPET_BYTES);
    while !masked.is_char_boundary(end) {
        end -= 1;
    }
    let mut text = masked[..end].to_string();
    if masked.len() > end || window < body.len() {
        text.push('…');
    }
    text
}
