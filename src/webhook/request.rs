//! One request, answered: the path, the method, the body, GeWe's test delivery, the allowlist,
//! the dedup window and the queue, in the order of the [module docs](super)' table.

use super::dedup::DedupWindow;
use super::intake::{Incoming, Intake, Verdict};
use super::stats::{bump, Counters};
use crate::json_type::json_type;
use crate::lock::lock;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::header::{ALLOW, CONTENT_LENGTH};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// What the request handler shares. It alone holds the queue's sender.
pub(super) struct Ingress {
    /// The path without a trailing `/` (empty for `/`).
    pub(super) base: String,
    pub(super) secret: Option<Vec<u8>>,
    pub(super) allow: Option<HashSet<String>>,
    pub(super) max_body_bytes: usize,
    pub(super) dedup: Option<Mutex<DedupWindow>>,
    pub(super) route: Route,
    pub(super) stats: Arc<Counters>,
}

/// Where an accepted delivery goes.
pub(super) enum Route {
    /// The queue of deliveries the dispatcher classifies and hands to the handler.
    Queue(mpsc::Sender<Value>),
    /// An intake that keeps it; the answer waits for it.
    Intake(Arc<dyn Intake>),
}

impl Ingress {
    fn path_matches(&self, path: &str) -> bool {
        match &self.secret {
            None if self.base.is_empty() => path == "/",
            None => path == self.base,
            Some(secret) => path
                .strip_prefix(self.base.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|segment| constant_time_eq(segment.as_bytes(), secret)),
        }
    }
}

/// Whether `a == b`, in time that depends only on the lengths (never on where they differ).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().max(b.len());
    // Nonzero when the lengths differ; the loop runs over the longer one either way.
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= std::hint::black_box(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

fn status(code: StatusCode) -> Response {
    code.into_response()
}

/// Why a body was refused.
enum BodyError {
    TooLarge,
    Unreadable,
}

/// Reads at most `limit` bytes of `body`.
async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    if body.size_hint().lower() > limit as u64 {
        return Err(BodyError::TooLarge);
    }
    let mut buf = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(frame) = frame else {
            return Err(BodyError::Unreadable);
        };
        if let Ok(data) = frame.into_data() {
            if buf.len().saturating_add(data.len()) > limit {
                return Err(BodyError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}

/// The one request handler. Never waits for the event handler and never panics on input.
pub(super) async fn receive(State(ingress): State<Arc<Ingress>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if !ingress.path_matches(parts.uri.path()) {
        return status(StatusCode::NOT_FOUND);
    }
    let stats = &ingress.stats;
    bump(&stats.requests);
    if parts.method != Method::POST {
        let mut response = status(StatusCode::METHOD_NOT_ALLOWED);
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > ingress.max_body_bytes as u64) {
        bump(&stats.rejected);
        tracing::warn!(
            content_length = declared,
            limit = ingress.max_body_bytes,
            "gewe webhook: body too large, answered 413"
        );
        return status(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let bytes = match read_body(body, ingress.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            bump(&stats.rejected);
            tracing::warn!(
                limit = ingress.max_body_bytes,
                "gewe webhook: body too large, answered 413"
            );
            return status(StatusCode::PAYLOAD_TOO_LARGE);
        }
        Err(BodyError::Unreadable) => {
            bump(&stats.rejected);
            tracing::warn!("gewe webhook: the body could not be read, answered 400");
            return status(StatusCode::BAD_REQUEST);
        }
    };
    let value = match serde_json::from_slice::<Value>(&bytes) {
        Ok(value @ Value::Object(_)) => value,
        Ok(other) => {
            bump(&stats.rejected);
            tracing::warn!(
                kind = json_type(&other),
                bytes = bytes.len(),
                "gewe webhook: the body is JSON but not an object, answered 400"
            );
            return status(StatusCode::BAD_REQUEST);
        }
        Err(error) => {
            bump(&stats.rejected);
            tracing::warn!(%error, bytes = bytes.len(), "gewe webhook: the body is not JSON, answered 400");
            return status(StatusCode::BAD_REQUEST);
        }
    };
    if value.get("testMsg").is_some() {
        bump(&stats.test_messages);
        tracing::debug!("gewe webhook: GeWe's test delivery, answered 200");
        return status(StatusCode::OK);
    }
    // Only the keys are read here: classifying waits for the dispatcher, so that GeWe's answer
    // never waits on it.
    let app_id = crate::events::delivery::app_id(&value).map(str::to_owned);
    if let Some(allow) = &ingress.allow {
        if !app_id.as_ref().is_some_and(|a| allow.contains(a)) {
            bump(&stats.rejected);
            tracing::warn!(appid = ?app_id, "gewe webhook: Appid not allowed, answered 403");
            return status(StatusCode::FORBIDDEN);
        }
    }
    let tx = match &ingress.route {
        Route::Queue(tx) => tx,
        Route::Intake(intake) => {
            let incoming = Incoming {
                new_msg_id: crate::events::delivery::new_msg_id(&value),
                app_id,
                body: bytes,
                value,
            };
            return match intake.take(incoming).await {
                Verdict::Accepted => {
                    bump(&stats.queued);
                    status(StatusCode::OK)
                }
                Verdict::Duplicate => {
                    bump(&stats.duplicates);
                    status(StatusCode::OK)
                }
                Verdict::Refused(why) => {
                    bump(&stats.queue_full);
                    tracing::warn!("gewe webhook: {why}, answered 503");
                    status(StatusCode::SERVICE_UNAVAILABLE)
                }
            };
        }
    };
    // The window stays locked from the check to the send, so two copies arriving together
    // cannot both pass; a refused send is not recorded, so GeWe's retry is accepted.
    let mut window = match (&ingress.dedup, crate::events::delivery::new_msg_id(&value)) {
        (Some(dedup), Some(id)) => {
            let window = lock(dedup);
            let key = window.key(app_id.as_deref(), &id);
            Some((window, key))
        }
        _ => None,
    };
    if let Some((window, key)) = window.as_mut() {
        if window.contains_key(*key) {
            bump(&stats.duplicates);
            tracing::debug!(appid = ?app_id, "gewe webhook: duplicate delivery, answered 200");
            return status(StatusCode::OK);
        }
    }
    match tx.try_send(value) {
        Ok(()) => {
            if let Some((window, key)) = window.as_mut() {
                window.insert_key(*key);
            }
            drop(window);
            bump(&stats.queued);
            status(StatusCode::OK)
        }
        Err(error) => {
            drop(window);
            bump(&stats.queue_full);
            let why = match error {
                mpsc::error::TrySendError::Full(_) => "the queue is full",
                mpsc::error::TrySendError::Closed(_) => "the handler has stopped",
            };
            tracing::warn!(appid = ?app_id, "gewe webhook: {why}, answered 503");
            status(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn constant_time_eq_is_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"", b"a"));
        // A zero byte past the end must not pass for "absent".
        assert!(!constant_time_eq(b"ab\0", b"ab"));
    }
}
