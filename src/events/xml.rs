//! A small, forgiving XML reader for the XML GeWe puts in callbacks (`Content.string`,
//! `MsgSource`): elements, attributes (quoted with `"` or `'`, spaces around `=` allowed),
//! text with entities decoded, and CDATA. It never fails and never panics: what is not
//! well-formed is read as far as it makes sense (an unclosed element ends with the input, a
//! stray closing tag is ignored, a `<` that starts no tag is text). Nesting deeper than
//! [`MAX_DEPTH`] is flattened, so neither parsing, searching nor dropping can exhaust the stack.

/// Elements nested deeper than this become siblings instead of children.
const MAX_DEPTH: usize = 64;

/// An element: its name, attributes and children. The document itself is an element with an
/// empty name holding the top-level nodes.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

/// A child of an element.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    /// The first direct child element named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|n| match n {
            Node::Element(e) if e.name == name => Some(e),
            _ => None,
        })
    }

    /// Follows `a/b/c` through direct children, first match at each step.
    pub fn path(&self, path: &str) -> Option<&Element> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .try_fold(self, |e, name| e.child(name))
    }

    /// Every element named `name` below this one, in document order.
    pub fn descendants<'a: 'n, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a Element> + 'n {
        let mut stack: Vec<std::slice::Iter<'a, Node>> = vec![self.children.iter()];
        std::iter::from_fn(move || loop {
            let top = stack.last_mut()?;
            match top.next() {
                None => {
                    stack.pop();
                }
                Some(Node::Text(_)) => {}
                Some(Node::Element(e)) => {
                    stack.push(e.children.iter());
                    if e.name == name {
                        return Some(e);
                    }
                }
            }
        })
    }

    /// The first element named `name` below this one, in document order.
    pub fn descendant(&self, name: &str) -> Option<&Element> {
        self.descendants(name).next()
    }

    /// The element's own text (text and CDATA children, not its child elements'), trimmed.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                out.push_str(t);
            }
        }
        out.trim().to_string()
    }

    /// The value of attribute `name`, entities decoded.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses `input` into a document element. Never fails.
pub(crate) fn parse(input: &str) -> Element {
    let bytes = input.as_bytes();
    let mut stack: Vec<Element> = vec![Element::default()];
    let mut i = 0;
    // Every index below is either 0, the input's length, or the position of an ASCII byte
    // (or just after one), so every slice falls on a character boundary.
    while i < bytes.len() {
        if bytes[i] != b'<' {
            let end = find_byte(bytes, i, b'<').unwrap_or(bytes.len());
            push_text(&mut stack, decode(&input[i..end]), false);
            i = end;
            continue;
        }
        let rest = &input[i..];
        if let Some(body) = rest.strip_prefix("<![CDATA[") {
            let (text, used) = match body.find("]]>") {
                Some(end) => (&body[..end], 9 + end + 3),
                None => (body, rest.len()),
            };
            push_text(&mut stack, text.to_string(), true);
            i += used;
            continue;
        }
        if rest.starts_with("<!--") {
            i += rest.find("-->").map_or(rest.len(), |e| e + 3);
            continue;
        }
        if rest.starts_with("<?") {
            i += rest.find("?>").map_or(rest.len(), |e| e + 2);
            continue;
        }
        if rest.starts_with("<!") {
            i += rest.find('>').map_or(rest.len(), |e| e + 1);
            continue;
        }
        if let Some(after) = rest.strip_prefix("</") {
            let Some(end) = after.find('>') else {
                // A closing tag cut off by the end of the input.
                break;
            };
            close(&mut stack, after[..end].trim());
            i += 2 + end + 1;
            continue;
        }
        match start_tag(rest) {
            Some((element, self_closing, used)) => {
                if self_closing || stack.len() > MAX_DEPTH {
                    attach(&mut stack, element);
                } else {
                    stack.push(element);
                }
                i += used;
            }
            None => {
                // A `<` that starts no tag: it is text.
                push_text(&mut stack, "<".to_string(), false);
                i += 1;
            }
        }
    }
    while stack.len() > 1 {
        let e = stack.pop().unwrap_or_default();
        attach(&mut stack, e);
    }
    stack.pop().unwrap_or_default()
}

fn find_byte(bytes: &[u8], from: usize, b: u8) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&c| c == b)
        .map(|p| from + p)
}

fn push_text(stack: &mut [Element], text: String, keep_blank: bool) {
    if text.is_empty() || (!keep_blank && text.trim().is_empty()) {
        return;
    }
    if let Some(top) = stack.last_mut() {
        top.children.push(Node::Text(text));
    }
}

fn attach(stack: &mut [Element], e: Element) {
    if let Some(top) = stack.last_mut() {
        top.children.push(Node::Element(e));
    }
}

/// Closes the innermost open element named `name`, and any left open inside it. A closing tag
/// that matches no open element is ignored.
fn close(stack: &mut Vec<Element>, name: &str) {
    let Some(pos) = stack.iter().skip(1).rposition(|e| e.name == name) else {
        return;
    };
    let pos = pos + 1;
    while stack.len() > pos {
        let e = stack.pop().unwrap_or_default();
        attach(stack, e);
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':') || b >= 0x80
}

/// A start tag at the beginning of `s` (which starts with `<`): the element, whether it closes
/// itself, and the bytes used. `None` if `s` does not start a tag.
fn start_tag(s: &str) -> Option<(Element, bool, usize)> {
    let bytes = s.as_bytes();
    let first = *bytes.get(1)?;
    if !(first.is_ascii_alphabetic() || first == b'_' || first >= 0x80) {
        return None;
    }
    let mut i = 1;
    while i < bytes.len() && is_name_byte(bytes[i]) {
        i += 1;
    }
    let name = s[1..i].to_string();
    let mut attrs = Vec::new();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        // An element with no children yet: `closed` when nothing follows inside it.
        let empty = |name, attrs, closed, end| {
            Some((
                Element {
                    name,
                    attrs,
                    children: Vec::new(),
                },
                closed,
                end,
            ))
        };
        match bytes.get(i) {
            // The tag runs to the end of the input: keep what was read.
            None => return empty(name, attrs, true, i),
            Some(b'>') => return empty(name, attrs, false, i + 1),
            Some(b'/') => {
                if bytes.get(i + 1) == Some(&b'>') {
                    return empty(name, attrs, true, i + 2);
                }
                i += 1;
                continue;
            }
            Some(_) => {}
        }
        let start = i;
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && !matches!(bytes[i], b'=' | b'>' | b'/')
        {
            i += 1;
        }
        if i == start {
            // A lone `=`: skip it.
            i += 1;
            continue;
        }
        let key = s[start..i].to_string();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            attrs.push((key, String::new()));
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let value = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let end = find_byte(bytes, i + 1, q).unwrap_or(bytes.len());
                let v = &s[i + 1..end];
                i = (end + 1).min(bytes.len());
                v
            }
            _ => {
                let start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                &s[start..i]
            }
        };
        attrs.push((key, decode(value)));
    }
}

/// Decodes the five XML entities and numeric character references; anything else stays as
/// written.
pub(crate) fn decode(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let entity = after
            .find(';')
            .filter(|&end| end <= 10)
            .and_then(|end| entity(&after[..end]).map(|c| (c, end)));
        match entity {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse::<u32>().ok()?,
            };
            char::from_u32(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_attributes_text_and_cdata() {
        let doc = parse(
            "<?xml version=\"1.0\"?>\n<msg><appmsg appid=\"\" sdkver='0'><title><![CDATA[a <b> & c]]></title>\
             <des>x &amp; y &#x4e2d;&#20013;</des><type>5</type><empty /></appmsg></msg>",
        );
        let appmsg = doc.path("msg/appmsg").unwrap();
        assert_eq!(appmsg.attr("sdkver"), Some("0"));
        assert_eq!(appmsg.attr("appid"), Some(""));
        assert_eq!(appmsg.child("title").unwrap().text(), "a <b> & c");
        assert_eq!(appmsg.child("des").unwrap().text(), "x & y 中中");
        assert_eq!(doc.path("msg/appmsg/type").unwrap().text(), "5");
        assert_eq!(doc.path("msg/appmsg/empty").unwrap().text(), "");
        assert!(doc.path("msg/nothing").is_none());
    }

    #[test]
    fn spaces_around_equals_and_quotes_with_gt() {
        let doc = parse("<emoji fromusername = \"wxid_a\" md5= 'x>y' len = \"2\" bare=1></emoji>");
        let e = doc.child("emoji").unwrap();
        assert_eq!(e.attr("fromusername"), Some("wxid_a"));
        assert_eq!(e.attr("md5"), Some("x>y"));
        assert_eq!(e.attr("len"), Some("2"));
        assert_eq!(e.attr("bare"), Some("1"));
    }

    #[test]
    fn broken_input_is_read_as_far_as_it_goes() {
        let doc = parse("<a><b>text</a></c><d x=\"1");
        assert_eq!(doc.path("a/b").unwrap().text(), "text");
        assert_eq!(doc.child("d").unwrap().attr("x"), Some("1"));
        for input in [
            "",
            "<",
            "</",
            "<!",
            "<![CDATA[",
            "<?",
            "<!--",
            "< a>",
            "<a b=",
            "<a b='",
            "&",
            "&#;",
            "&#xFFFFFFFF;",
            "&#55296;",
            "<a/",
            "<a =\"1\">",
            "中<文>字</文>",
        ] {
            let _ = parse(input);
        }
        let deep = "<a>".repeat(100_000);
        let doc = parse(&deep);
        assert_eq!(doc.descendants("a").count(), 100_000);
    }
}
