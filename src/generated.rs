//! The code build.rs generates from `openapi/`: progenitor's types and raw client, then the
//! typed methods of [`crate::Client`] and the dispatch table. Lints are relaxed here only.
#![allow(dead_code, unused_imports, clippy::all, clippy::pedantic)]

include!(concat!(env!("OUT_DIR"), "/gewe_client.rs"));

pub(crate) mod wrapper {
    use super::types;
    include!(concat!(env!("OUT_DIR"), "/gewe_wrapper.rs"));
}

/// Enumerated fields, with an `Other` value for what GeWe adds later.
pub mod enums {
    include!(concat!(env!("OUT_DIR"), "/gewe_enums.rs"));
}
