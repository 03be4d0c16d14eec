//! The text of a `<sysmsg>` notice as a person reads it, its template filled in one bounded
//! pass: a delivery of a few KB can never make megabytes of text.

use super::xml;
use std::collections::HashMap;

/// How many times its XML's size a filled notice may grow to. A real template names each
/// member once, so its text is shorter than the XML that carries the nicknames.
pub(super) const NOTICE_GROWTH: usize = 2;

/// The human-readable text of a `<sysmsg>`: the revoke notice, the template (its `$name$`
/// placeholders filled with the linked members' nicknames), the plain text, or the content.
/// `limit` bounds the filled template, so that no delivery makes more text than a small
/// multiple of its own size.
pub(super) fn notice_text(sysmsg: &xml::Element, limit: usize) -> String {
    for name in [
        "replacemsg",
        "template",
        "plain",
        "text",
        "content",
        "title",
    ] {
        let Some(text) = sysmsg
            .descendants(name)
            .map(xml::Element::text)
            .find(|t| !t.is_empty())
        else {
            continue;
        };
        if name != "template" {
            return text;
        }
        // The first link of each name with nicknames fills its placeholder.
        let mut fills: HashMap<String, String> = HashMap::new();
        for link in sysmsg.descendants("link") {
            let Some(placeholder) = link.attr("name").filter(|n| !n.is_empty()) else {
                continue;
            };
            if fills.contains_key(placeholder) {
                continue;
            }
            let names: Vec<String> = link
                .descendants("nickname")
                .map(xml::Element::text)
                .filter(|n| !n.is_empty())
                .collect();
            if !names.is_empty() {
                fills.insert(placeholder.to_owned(), names.join("、"));
            }
        }
        return fill_template(&text, &fills, limit);
    }
    String::new()
}

/// Replaces each `$name$` of `template` that `fills` names, in one pass over the template:
/// inserted text is never expanded again. Once the text would pass `limit` bytes, the remaining
/// placeholders stay as written.
fn fill_template(template: &str, fills: &HashMap<String, String>, limit: usize) -> String {
    let mut out = String::with_capacity(template.len().min(limit));
    let mut rest = template;
    while let Some(open) = rest.find('$') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('$') else {
            break;
        };
        out.push_str(&rest[..open]);
        let name = &after[..close];
        match fills.get(name) {
            Some(fill) => {
                if out.len() + fill.len() <= limit {
                    out.push_str(fill);
                } else {
                    out.push_str(&rest[open..open + close + 2]);
                }
                rest = &after[close + 1..];
            }
            // Not a placeholder: keep `$name` and look again from the closing `$`, which may
            // open the next one.
            None => {
                out.push('$');
                out.push_str(name);
                rest = &after[close..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fills(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_template_is_filled_once() {
        let f = fills(&[("names", "$names$$names$"), ("adder", "Alice")]);
        assert_eq!(
            fill_template("\"$adder$\"邀请\"$names$\"加入了群聊", &f, 1000),
            "\"Alice\"邀请\"$names$$names$\"加入了群聊"
        );
        // A `$` that opens no known placeholder is text, and its partner may open one.
        assert_eq!(fill_template("$x$adder$ $", &f, 1000), "$xAlice $");
        assert_eq!(
            fill_template("no placeholders", &f, 1000),
            "no placeholders"
        );
    }

    #[test]
    fn a_filled_template_stays_within_its_limit() {
        let f = fills(&[("n", "0123456789")]);
        let template = "$n$".repeat(100);
        let text = fill_template(&template, &f, 55);
        assert!(text.starts_with("0123456789012345678901234567890123456789012345678"));
        assert!(text.len() <= 55 + template.len(), "{}", text.len());
        assert!(text.ends_with("$n$"));
    }
}
