//! GeWe's limits on reads, for calls a model makes: downloads one at a time and spaced, Moments
//! fetched at most every few seconds, contact searches capped a day. The numbers are
//! `gewe::pacing`'s.

use gewe::pacing::{DOWNLOAD_GAP, MOMENTS_GAP, SEARCHES_PER_DAY};
use std::future::Future;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

const DAY: Duration = Duration::from_secs(24 * 3600);

/// What the limits have seen so far, in this process.
#[derive(Default)]
pub struct ReadLimits {
    /// When the last download ended; held during a download, so there is one at a time.
    download: Mutex<Option<Instant>>,
    /// When the last Moments fetch ended.
    moments: Mutex<Option<Instant>>,
    /// The searches of the last day, oldest first.
    searches: Mutex<Vec<Instant>>,
}

impl ReadLimits {
    /// Runs `call` within the limits of the operation at `path`, or refuses it, saying why.
    pub async fn run<F: Future>(&self, path: &str, call: F) -> Result<F::Output, String> {
        let action = path.rsplit('/').next().unwrap_or("");
        if path.starts_with("/message/download") || path == "/sns/downloadSnsVideo" {
            let gap = random_in(
                DOWNLOAD_GAP.start().as_millis(),
                DOWNLOAD_GAP.end().as_millis(),
            );
            Ok(spaced(&self.download, gap, call).await)
        } else if action == "snsList" || action == "contactsSnsList" {
            Ok(spaced(&self.moments, MOMENTS_GAP, call).await)
        } else if path == "/contacts/search" {
            {
                let mut searches = self.searches.lock().await;
                let now = Instant::now();
                searches.retain(|t| now.duration_since(*t) < DAY);
                if searches.len() >= SEARCHES_PER_DAY as usize {
                    return Err(format!(
                        "refused: GeWe allows about {SEARCHES_PER_DAY} contact searches a day, and \
                         this server has made them; more gets the account flagged"
                    ));
                }
                searches.push(now);
            }
            Ok(call.await)
        } else {
            Ok(call.await)
        }
    }
}

/// One call at a time on `last`, starting `gap` after the previous one ended.
async fn spaced<F: Future>(last: &Mutex<Option<Instant>>, gap: Duration, call: F) -> F::Output {
    let mut last = last.lock().await;
    if let Some(ended) = *last {
        tokio::time::sleep_until(ended + gap).await;
    }
    let output = call.await;
    *last = Some(Instant::now());
    output
}

fn random_in(lo_ms: u128, hi_ms: u128) -> Duration {
    let lo = u64::try_from(lo_ms).unwrap_or(u64::MAX);
    let hi = u64::try_from(hi_ms).unwrap_or(u64::MAX).max(lo);
    Duration::from_millis(fastrand::u64(lo..=hi))
}
