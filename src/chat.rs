//! GeWe's rule for telling a group from a person by its id.

/// The suffix of every group's id, `34559815390@chatroom`.
const GROUP_SUFFIX: &str = "@chatroom";

/// Whether `wxid` is a group: GeWe's group ids end in `@chatroom`.
///
/// ```
/// assert!(gewe::is_group("34559815390@chatroom"));
/// assert!(!gewe::is_group("wxid_abc"));
/// ```
pub fn is_group(wxid: &str) -> bool {
    wxid.ends_with(GROUP_SUFFIX)
}
