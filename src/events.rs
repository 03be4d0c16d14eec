//! Typed callback events: what GeWe POSTs to the callback URL.
