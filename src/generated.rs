//! The code build.rs generates from `openapi/`: progenitor's types and raw client, then the
//! typed methods of [`crate::Client`], the dispatch table and the short-form calls. Lints are
//! relaxed here only.
#![allow(dead_code, unused_imports, clippy::all, clippy::pedantic)]

include!(concat!(env!("OUT_DIR"), "/gewe_client.rs"));

pub(crate) mod wrapper {
    use super::types;
    include!(concat!(env!("OUT_DIR"), "/gewe_wrapper.rs"));
}

/// The short form of every operation: handles by module, constructors, setters.
pub(crate) mod calls {
    #[allow(unused_imports)]
    use super::types::{self, *};
    include!(concat!(env!("OUT_DIR"), "/gewe_calls.rs"));
}

/// Enumerated fields, with an `Other` value for what GeWe adds later.
pub mod enums {
    include!(concat!(env!("OUT_DIR"), "/gewe_enums.rs"));
}
