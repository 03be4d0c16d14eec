//! Where GeWe mounts its API, written once. It depends on nothing, so that the build script
//! includes this file as it is (`build/spec/mod.rs`) to strip the prefix from the exports' paths
//! and to name the merged spec's server.

/// The prefix, as a macro so that `concat!` can build [`DEFAULT_BASE_URL`] from it.
macro_rules! api_path {
    () => {
        "/gewe/v2/api"
    };
}

/// The path GeWe's cloud mounts the API under; every operation's path follows it.
pub const API_PATH: &str = api_path!();
/// The path a self-hosted gewechat mounts the same API under (`http://HOST:2531/v2/api`).
pub const SELF_HOSTED_API_PATH: &str = "/v2/api";
/// GeWe's cloud API, over TLS: the host GeWe's docs name (whose plain-HTTP address would carry
/// the token in clear text) and [`API_PATH`]. A self-hosted gewechat is `http://HOST:2531`
/// followed by [`SELF_HOSTED_API_PATH`].
pub const DEFAULT_BASE_URL: &str = concat!("https://api.geweapi.com", api_path!());
