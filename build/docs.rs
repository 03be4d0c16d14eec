//! GeWe's descriptions are apifox Markdown: `<Accordion>` components, `:::highlight` boxes, bare
//! URLs, `[wxid_…]` that rustdoc reads as a link, indented HTML that rustdoc reads as a Rust code
//! block, and XML such as `<appmsg>`. One rule turns any of it into Markdown rustdoc accepts.

/// HTML tags that only style the text: dropped, their text kept.
const STYLE_TAGS: &[&str] = &[
    "p", "div", "span", "br", "font", "strong", "b", "i", "u", "em", "img", "ul", "ol", "li",
    "table", "tr", "td", "th", "thead", "tbody", "hr", "center", "small", "big", "sup", "sub",
    "pre", "code", "a",
];

// GeWe's pacing numbers, from the file the library's pacer reads them from.
#[path = "../src/pacing/guide.rs"]
#[allow(dead_code)]
mod guide;

/// GeWe's rule for downloads: one at a time, spaced, each message once.
const DOWNLOAD_RULE: &str = "download one at a time, a random 3–10 s apart, and each message only \
     once; downloading on every callback gets the account kicked offline.";

/// The usage rule for an operation, from the kind of its action (`/message/postText` is a send):
/// GeWe's developer guide gives rules by kind of action, not per endpoint. The action is the
/// last path segment.
pub fn usage_rule(path: &str) -> Option<String> {
    let action = path.rsplit('/').next()?;
    if action.starts_with("post") || action.starts_with("forward") {
        Some(format!("{} (see `gewe::pacing`).", guide::send_rule()))
    } else if action.starts_with("download") {
        Some(DOWNLOAD_RULE.to_owned())
    } else {
        None
    }
}

/// Cleans one description for a doc comment.
pub fn clean(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut in_fence = false;
    for raw in text.replace("\r\n", "\n").replace('\r', "\n").split('\n') {
        let trimmed = raw.trim_start();
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
            // Any fenced block becomes `text`: rustdoc would compile it as a Rust doctest.
            out.push(if in_fence {
                "```text".to_string()
            } else {
                "```".to_string()
            });
            continue;
        }
        if in_fence {
            out.push(raw.to_string());
            continue;
        }
        if trimmed.starts_with(":::") {
            // apifox callout boxes (`:::highlight green`, `:::`): the marker goes, the text stays.
            continue;
        }
        let line = clean_line(raw);
        // Four spaces of indentation make an (untested, un-Rust) code block; cap it.
        let indent = line.len() - line.trim_start().len();
        let line = if indent > 3 {
            format!("   {}", line.trim_start())
        } else {
            line
        };
        if line.trim().is_empty() {
            if out.last().is_some_and(|l| l.trim().is_empty()) || out.is_empty() {
                continue;
            }
            out.push(String::new());
        } else {
            out.push(line.trim_end().to_string());
        }
    }
    if in_fence {
        out.push("```".to_string());
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}

fn clean_line(line: &str) -> String {
    let line = strip_tags(line);
    let line = images_to_links(&line);
    let line = escape_brackets(&line);
    wrap_bare_urls(&line)
}

/// Drops apifox components (`<Accordion …>`, capitalized) and styling HTML, escapes any other `<`.
fn strip_tags(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let name: String = after
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let end = after.find('>');
        let is_component = name.chars().next().is_some_and(|c| c.is_ascii_uppercase());
        let is_style = STYLE_TAGS.contains(&name.to_ascii_lowercase().as_str());
        let is_autolink = after.starts_with("http://") || after.starts_with("https://");
        match end {
            Some(end) if is_autolink => {
                out.push('<');
                out.push_str(&after[..=end]);
                rest = &after[end + 1..];
            }
            Some(end) if !name.is_empty() && (is_component || is_style) => {
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("&lt;");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn images_to_links(line: &str) -> String {
    line.replace("![", "[")
}

/// `[wxid_xxx]` that is not a Markdown link would be an intra-doc link: escape it.
fn escape_brackets(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            out.push(c);
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        if c == '[' {
            // Find the matching `]` and see whether `(` follows: a real link.
            let mut depth = 0;
            let mut close = None;
            for (j, &d) in chars.iter().enumerate().skip(i) {
                match d {
                    '[' => depth += 1,
                    ']' => {
                        depth -= 1;
                        if depth == 0 {
                            close = Some(j);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            if let Some(j) = close {
                if chars.get(j + 1) == Some(&'(') {
                    out.push('[');
                    i += 1;
                    continue;
                }
            }
            out.push_str("\\[");
            i += 1;
            continue;
        }
        if c == ']' {
            // A `]` that closes a real link is followed by `(`.
            if chars.get(i + 1) == Some(&'(') {
                out.push(']');
            } else {
                out.push_str("\\]");
            }
            i += 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Bare URLs become autolinks (`<https://…>`); rustdoc warns on bare ones.
fn wrap_bare_urls(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    loop {
        let next = ["http://", "https://"]
            .iter()
            .filter_map(|p| rest.find(p))
            .min();
        let Some(start) = next else { break };
        let before = &rest[..start];
        let prev = before.chars().last();
        let in_code = before.matches('`').count() % 2 == 1;
        let end = rest[start..]
            .find(|c: char| {
                c.is_whitespace()
                    || !c.is_ascii()
                    || matches!(c, ')' | '>' | '"' | '\'' | '`' | ']')
            })
            .map_or(rest.len(), |e| start + e);
        let url = &rest[start..end];
        out.push_str(before);
        if matches!(prev, Some('(') | Some('<')) || in_code {
            out.push_str(url);
        } else {
            let url = url.trim_end_matches(['.', ',', ';', ':', '!', '?']);
            let tail = &rest[start + url.len()..end];
            out.push('<');
            out.push_str(url);
            out.push('>');
            out.push_str(tail);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}
