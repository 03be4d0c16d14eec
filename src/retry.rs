//! The opt-in retry: connect errors only, with exponential backoff and full jitter.
//!
//! GeWe's sends (`postText`, `forwardImage`, …) are not idempotent: a request that may have
//! reached GeWe is never sent again, or the friend gets the message twice. Only a failure to
//! *connect* proves that nothing was sent (no TCP connection, or no TLS session, so no byte of the
//! request left the machine). A reset, a timeout or a cut connection after the request was written
//! is returned to the caller as [`Error::Transport`](crate::Error::Transport), never retried.

use std::time::Duration;

/// When to send a request again. Off unless set with
/// [`ClientBuilder::retry`](crate::ClientBuilder::retry).
///
/// Retry `n` waits a random time in `[0, min(max_backoff, initial_backoff × 2ⁿ)]` ("full
/// jitter"), so that many clients refused by one restarting server do not retry in step.
///
/// The client's [timeout](crate::ClientBuilder::timeout) and connect timeout apply to each
/// attempt: a call may take up to `max_retries + 1` attempts plus the waits between them.
///
/// ```
/// use std::time::Duration;
///
/// let policy = gewe::RetryPolicy::connect_errors(3)
///     .initial_backoff(Duration::from_millis(100))
///     .max_backoff(Duration::from_secs(2));
/// let client = gewe::Client::builder().token("t").retry(policy).build().unwrap();
/// # let _ = client;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl RetryPolicy {
    /// Retries a call whose connection could not be made, at most `max_retries` times (so at most
    /// `max_retries + 1` connection attempts). Backoff starts at 200 ms and is capped at 5 s.
    pub fn connect_errors(max_retries: u32) -> Self {
        RetryPolicy {
            max_retries,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }

    /// The cap of the first wait; each later retry doubles it.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The largest wait between two attempts.
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// How many retries are allowed.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// Whether retry number `attempt` (0 for the first retry) may be made after `error`.
    pub(crate) fn allows(&self, attempt: u32, error: &reqwest::Error) -> bool {
        attempt < self.max_retries && error.is_connect()
    }

    /// The wait before retry number `attempt`: uniform in `[0, cap]`.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let cap = self
            .initial_backoff
            .saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
            .min(self.max_backoff);
        let cap_nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        if cap_nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(fastrand::u64(0..=cap_nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_jittered_and_capped() {
        let policy = RetryPolicy::connect_errors(10)
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(250));
        let waits: Vec<Duration> = (0..200).map(|_| policy.backoff(0)).collect();
        assert!(waits.iter().all(|w| *w <= Duration::from_millis(100)));
        // Jitter: 200 draws from [0, 100 ms] are not all equal.
        assert!(waits.iter().any(|w| *w != waits[0]));
        for attempt in [2, 5, 31, 32, 1000] {
            assert!(policy.backoff(attempt) <= Duration::from_millis(250));
        }
        let zero = RetryPolicy::connect_errors(1).initial_backoff(Duration::ZERO);
        assert_eq!(zero.backoff(3), Duration::ZERO);
    }
}
