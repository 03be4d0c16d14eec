//! Names: of operations and their types, from the path alone; paths without GeWe's prefix;
//! keys in JSON pointers.

use serde_json::Value;

/// Path prefixes stripped from every path: GeWe cloud and self-hosted gewechat.
const PATH_PREFIXES: &[&str] = &[
    super::api_path::API_PATH,
    super::api_path::SELF_HOSTED_API_PATH,
];

/// Escapes a key for a JSON pointer.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Whether a JSON schema property holds one of GeWe's 64-bit ids: an integer or number named `id`
/// or ending in `id`/`Id` (`newMsgId`, `snsId`, `displayid`). Shared with codegen.
pub fn is_id_property(name: &str, schema: &Value) -> bool {
    name.to_ascii_lowercase().ends_with("id")
        && matches!(
            schema.get("type").and_then(Value::as_str),
            Some("integer" | "number")
        )
}

/// The stable, unique snake_case name of an operation, from its path alone:
/// `/group/joinRoomUsingQRCode` → `group_join_room_using_qr_code`.
pub fn operation_id(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| snake_case(s.trim_matches(|c| c == '{' || c == '}')))
        .collect::<Vec<_>>()
        .join("_")
}

/// camelCase (with acronyms) to snake_case: `joinRoomUsingQRCode` → `join_room_using_qr_code`.
pub fn snake_case(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            continue;
        }
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if (prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower))
                && !out.ends_with('_')
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out.trim_end_matches('_').to_string()
}

/// snake_case to PascalCase: `group_join_room_using_qr_code` → `GroupJoinRoomUsingQrCode`.
pub fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

pub(super) fn strip_prefix(path: &str) -> String {
    for prefix in PATH_PREFIXES {
        if let Some(rest) = path.strip_prefix(prefix) {
            if rest.starts_with('/') {
                return rest.to_string();
            }
        }
    }
    path.to_string()
}
