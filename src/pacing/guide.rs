//! GeWe's pacing numbers, from its developer guide, written once. The default
//! [`PacingConfig`](super::PacingConfig) follows them, and the docs of every send can quote
//! [`send_rule`]. This file depends on `std` alone, so that the build script can include it.

use std::ops::RangeInclusive;
use std::time::Duration;

/// About this many messages a minute, per account.
pub const MESSAGES_PER_MINUTE: u32 = 40;
/// The least time between the end of one send and the start of the next: 1 s.
pub const MESSAGE_GAP: Duration = Duration::from_secs(1);
/// About this long before a send to another user than the previous send's: 1 s.
pub const USER_GAP: Duration = Duration::from_secs(1);
/// A random wait in this range before a send to another group than the previous send's: 2–5 s.
pub const GROUP_GAP: RangeInclusive<Duration> = Duration::from_secs(2)..=Duration::from_secs(5);

/// A random wait in this range between two downloads (`/message/download*`), one at a time: 3–10 s.
pub const DOWNLOAD_GAP: RangeInclusive<Duration> = Duration::from_secs(3)..=Duration::from_secs(10);
/// Searches for contacts (`/contacts/search`) a day, at the low end of GeWe's 10–20.
pub const SEARCHES_PER_DAY: u32 = 10;
/// The least time between two fetches of Moments (`/sns/snsList`, `/sns/contactsSnsList`): 5 s.
pub const MOMENTS_GAP: Duration = Duration::from_secs(5);

/// GeWe's rule for sends, in words, with the numbers above.
///
/// ```
/// assert!(gewe::pacing::send_rule().contains("about 40 messages a minute"));
/// ```
pub fn send_rule() -> String {
    format!(
        "GeWe allows about {} messages a minute, never concurrently: wait for one send to finish \
         before the next, about {} s between users and a random {}–{} s between groups",
        MESSAGES_PER_MINUTE,
        USER_GAP.as_secs(),
        GROUP_GAP.start().as_secs(),
        GROUP_GAP.end().as_secs(),
    )
}
