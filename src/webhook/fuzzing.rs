//! The receiver's request handler without a socket, for `cargo fuzz` (`--cfg fuzzing` only).

use super::dedup::DedupWindow;
use super::request::{receive, Ingress, Route};
use super::stats::Counters;
use super::DEFAULT_DEDUP_MAX_AGE;
use crate::events::Event;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// The receiver's request handler without a socket, for `cargo fuzz` (`--cfg fuzzing` only).
#[doc(hidden)]
pub struct FuzzReceiver {
    ingress: Arc<Ingress>,
    rx: mpsc::Receiver<Value>,
}

impl FuzzReceiver {
    /// A receiver at `/cb` with the secret `s3cret`, dedup on, an allowlist when `allow` is set,
    /// bodies up to `max_body_bytes`.
    pub fn new(allow: Option<Vec<String>>, max_body_bytes: usize) -> Self {
        let (tx, rx) = mpsc::channel(16);
        let ingress = Arc::new(Ingress {
            base: "/cb".to_owned(),
            secret: Some(b"s3cret".to_vec()),
            allow: allow.map(|a| a.into_iter().collect()),
            max_body_bytes,
            dedup: Some(Mutex::new(DedupWindow::new(1024, DEFAULT_DEDUP_MAX_AGE))),
            route: Route::Queue(tx),
            stats: Arc::new(Counters::default()),
        });
        FuzzReceiver { ingress, rx }
    }

    /// Hands one request to the handler; the status, and the event queued for the handler.
    pub async fn deliver(&mut self, request: Request) -> (StatusCode, Option<Event>) {
        let status = receive(State(Arc::clone(&self.ingress)), request)
            .await
            .status();
        (status, self.rx.try_recv().ok().map(Event::from_value))
    }
}
