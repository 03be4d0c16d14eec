//! Operations by path, with JSON in and out, and each operation's schemas.

use crate::error::{Cause, DecodeError, Error, InvalidRequestError, Result};
use crate::{generated, Client};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One GeWe operation, as generated from its spec file.
#[non_exhaustive]
pub struct Operation {
    /// The method name on [`Client`], e.g. `group_join_room_using_qr_code`.
    pub id: &'static str,
    /// The path relative to the base URL, e.g. `/group/joinRoomUsingQRCode`.
    pub path: &'static str,
    /// The HTTP method, `POST` for every GeWe operation.
    pub method: &'static str,
    /// The docs module, the folder under `openapi/` (`group`, `account`, …).
    pub module: &'static str,
    /// The docs' summary, in Chinese.
    pub summary: &'static str,
    /// The spec file it was generated from.
    pub source: &'static str,
    /// Whether GeWe marks it deprecated.
    pub deprecated: bool,
    pub(crate) tier: crate::Tier,
    pub(crate) docs: &'static str,
    pub(crate) request_schema: Option<fn() -> schemars::schema::RootSchema>,
    pub(crate) data_schema: fn() -> schemars::schema::RootSchema,
    pub(crate) call: for<'a> fn(&'a Client, Value) -> BoxFuture<'a, Result<JsonReply>>,
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation")
            .field("id", &self.id)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Operation {
    /// The JSON schema of the request body (from the generated request type), if it takes one.
    pub fn request_schema(&self) -> Option<schemars::schema::RootSchema> {
        self.request_schema.map(|f| f())
    }

    /// What the operation can do, from `openapi/overlays/tiers.yaml`; `admin` where the overlay
    /// gives none.
    pub fn tier(&self) -> crate::Tier {
        self.tier
    }

    /// What the method's documentation says, as Markdown: the summary, GeWe's description and
    /// GeWe's usage rule for the kind of operation, when there is one.
    pub fn docs(&self) -> &'static str {
        self.docs
    }

    /// The JSON schema of the `data` a successful call returns.
    pub fn data_schema(&self) -> schemars::schema::RootSchema {
        (self.data_schema)()
    }
}

/// Every operation, in path order.
pub fn operations() -> &'static [Operation] {
    &generated::wrapper::OPERATIONS
}

/// The operation at `path` (`/group/joinRoomUsingQRCode`; the [`API_PATH`](crate::API_PATH) or
/// [`SELF_HOSTED_API_PATH`](crate::SELF_HOSTED_API_PATH) prefix and the
/// leading `/` are optional).
pub fn operation(path: &str) -> Option<&'static Operation> {
    let path = path
        .strip_prefix(crate::API_PATH)
        .or_else(|| path.strip_prefix(crate::SELF_HOSTED_API_PATH))
        .unwrap_or(path);
    let path = path.trim_start_matches('/');
    operations().iter().find(|op| &op.path[1..] == path)
}

/// What a dynamic call returns: `data` as received, and as the typed API sees it.
pub(crate) struct JsonReply {
    pub(crate) raw: Value,
    pub(crate) typed: Value,
}

impl JsonReply {
    pub(crate) fn new<D: Serialize>(op: &'static Operation, data: &D, body: Bytes) -> Result<Self> {
        #[derive(serde::Deserialize)]
        struct Raw {
            #[serde(default)]
            data: Value,
        }
        // GeWe has answered by now: a failure here must say the request went out. The body
        // decoded; without the client's token at hand to mask it, it is not shown.
        let decode_error = |reason: &str, e: serde_json::Error| {
            Error::Decode(Box::new(DecodeError {
                operation: op.path.to_owned(),
                reason: reason.into(),
                snippet: String::new(),
                source: Some(Cause(e.to_string())),
            }))
        };
        // The typed decoding skips what its type does not read; `data` as sent is read whole,
        // and what a `Value` cannot hold (a number beyond f64's range) is an error, not `null`.
        let raw = serde_json::from_slice::<Raw>(&body)
            .map(|r| r.data)
            .map_err(|e| decode_error("`data` as sent cannot be read as JSON", e))?;
        let typed = serde_json::to_value(data)
            .map_err(|e| decode_error("the decoded data cannot be written back as JSON", e))?;
        Ok(JsonReply { raw, typed })
    }
}

/// Decodes a JSON body into the operation's request type, naming the field that does not fit.
pub(crate) fn request_from_json<T: DeserializeOwned>(
    client: &Client,
    op: &'static Operation,
    body: Value,
) -> Result<T> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        // serde quotes the rejected value, which may be a token.
        let inner = client.token().mask(&e.into_inner().to_string());
        // serde's message names the field and what is wrong with it: it is the reason itself,
        // so it is not repeated as a source.
        let reason = if path == "." {
            inner
        } else {
            format!("at `{path}`: {inner}")
        };
        Error::InvalidRequest(Box::new(InvalidRequestError {
            operation: op.path.to_string(),
            reason,
            source: None,
        }))
    })
}

/// `data` of an operation that documents none: accepts and ignores whatever GeWe sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, schemars::JsonSchema)]
pub struct NoData;

impl<'de> serde::Deserialize<'de> for NoData {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| NoData)
    }
}

impl Serialize for NoData {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

impl Client {
    /// Calls an operation by its path with a JSON body, returning `data` as GeWe sent it.
    ///
    /// The body goes through the operation's typed request first: a field that does not fit, or
    /// one the operation does not have, is an [`Error::InvalidRequest`] naming it, and nothing is
    /// sent. The response must decode into the typed response too.
    ///
    /// ```no_run
    /// # async fn run(client: gewe::Client) -> gewe::Result<()> {
    /// let data = client
    ///     .call_json("/group/joinRoomUsingQRCode", serde_json::json!({"appId": "wx_app", "qrUrl": "https://weixin.qq.com/g/x"}))
    ///     .await?;
    /// println!("{}", data["chatroomId"]);
    /// # Ok(()) }
    /// ```
    pub async fn call_json(&self, path: &str, body: Value) -> Result<Value> {
        Ok(self.dispatch(path, body).await?.raw)
    }

    /// Like [`Client::call_json`], but returns `data` after it went through the typed response
    /// and was serialized again: exactly what the typed method keeps.
    pub async fn call_json_typed(&self, path: &str, body: Value) -> Result<Value> {
        Ok(self.dispatch(path, body).await?.typed)
    }

    async fn dispatch(&self, path: &str, body: Value) -> Result<JsonReply> {
        let op = operation(path).ok_or_else(|| {
            Error::InvalidRequest(Box::new(InvalidRequestError {
                operation: path.to_string(),
                reason: "no such operation in the GeWe spec".into(),
                source: None,
            }))
        })?;
        (op.call)(self, body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Data that cannot be written as JSON: a map with keys that are not strings.
    struct Unwritable;

    impl Serialize for Unwritable {
        fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = s.serialize_map(Some(1))?;
            map.serialize_entry(&[1u8], &0)?;
            map.end()
        }
    }

    #[test]
    fn data_that_cannot_be_written_back_is_a_decode_error_after_sending() {
        let op = operation("/group/joinRoomUsingQRCode").expect("an operation");
        let body =
            Bytes::from_static(br#"{"ret":200,"msg":"ok","data":{"chatroomId":"1@chatroom"}}"#);
        let error = JsonReply::new(op, &Unwritable, body)
            .err()
            .expect("the data cannot be serialized");
        assert!(error.may_have_reached_server(), "GeWe has answered");
        let Error::Decode(decode) = &error else {
            panic!("expected a decode error, got {error:?}")
        };
        assert_eq!(decode.operation, "/group/joinRoomUsingQRCode");
        assert_eq!(
            decode.reason,
            "the decoded data cannot be written back as JSON"
        );
        let cause = std::error::Error::source(&error).expect("serde's message is the source");
        assert!(
            !error.to_string().contains(&cause.to_string()),
            "the cause is not repeated: {error}"
        );
        assert!(!error.to_string().contains("nothing was sent"), "{error}");
    }
}
