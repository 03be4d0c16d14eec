//! Examples apifox keeps as text: JSON with `//` comments, or several labelled JSON texts in one
//! string. Each JSON text in it is an example.

use serde_json::Value;

/// The JSON texts inside `text`, after dropping `//` comments and escaping raw control
/// characters inside strings.
pub(super) fn json_texts(text: &str) -> Vec<Value> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '{' && chars[i] != '[' {
            i += 1;
            continue;
        }
        let mut depth = 0i32;
        let mut in_str = false;
        let mut clean = String::new();
        let mut j = i;
        let mut end = None;
        while j < chars.len() {
            let c = chars[j];
            if in_str {
                match c {
                    '\\' if j + 1 < chars.len() => {
                        clean.push(c);
                        clean.push(chars[j + 1]);
                        j += 2;
                        continue;
                    }
                    '"' => in_str = false,
                    c if (c as u32) < 0x20 => {
                        clean.push_str(&format!("\\u{:04x}", c as u32));
                        j += 1;
                        continue;
                    }
                    _ => {}
                }
            } else {
                match c {
                    '"' => in_str = true,
                    '/' if chars.get(j + 1) == Some(&'/') => {
                        while j < chars.len() && chars[j] != '\n' {
                            j += 1;
                        }
                        continue;
                    }
                    '{' | '[' => depth += 1,
                    '}' | ']' => depth -= 1,
                    _ => {}
                }
            }
            clean.push(c);
            j += 1;
            if depth == 0 {
                end = Some(j);
                break;
            }
        }
        match end.and_then(|_| serde_json::from_str::<Value>(&clean).ok()) {
            Some(v) => {
                found.push(v);
                i = j;
            }
            None => i += 1,
        }
    }
    found
}
