//! The webhook receiver: answers GeWe within 3 s, deduplicates, and hands events on.
