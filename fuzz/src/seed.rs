//! Writes the seed corpora from the docs' examples: every envelope example of the merged spec
//! (`gewe::OPENAPI_SPEC`) and every callback fixture of `tests/fixtures/callbacks/`.
//!
//! Run from `fuzz/`: `cargo run --bin seed`. Each target's first input byte is its mode (see the
//! targets), so each seed starts with the mode that reads the rest as the docs meant it.

use gewe::events::MsgType;
use serde_json::Value;
use std::fs;
use std::path::Path;

fn main() -> std::io::Result<()> {
    let spec: Value = serde_json::from_str(gewe::OPENAPI_SPEC).expect("the spec is JSON");
    let mut envelopes = Vec::new();
    collect_envelopes(&spec, &mut envelopes);
    envelopes.sort();
    envelopes.dedup();
    for (i, text) in envelopes.iter().enumerate() {
        // Mode 0: HTTP 200, as GeWe sends its failures too.
        write("envelope", &format!("doc-{i:03}"), 0, text.as_bytes())?;
    }
    let mut fixtures: Vec<_> = fs::read_dir("../tests/fixtures/callbacks")?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    fixtures.sort();
    for path in &fixtures {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let bytes = fs::read(path)?;
        write("callback", &name, 0, &bytes)?;
        // POST to the right path with a Content-Length, no allowlist.
        write("webhook", &name, 0x10, &bytes)?;
        let value: Value = serde_json::from_slice(&bytes).expect("fixtures are JSON");
        if let Some(content) = value
            .pointer("/Data/Content/string")
            .and_then(Value::as_str)
        {
            // Mode 1 + 2×k: the message's text alone, as the k-th `MsgType` of the table
            // (k past the table: a code it does not name).
            let msg_type = value.pointer("/Data/MsgType").and_then(Value::as_i64);
            let k = MsgType::KNOWN
                .iter()
                .position(|t| Some(t.code()) == msg_type)
                .unwrap_or(MsgType::KNOWN.len());
            let mode = u8::try_from(1 + 2 * k).expect("the table is short");
            write(
                "callback",
                &format!("{name}-content"),
                mode,
                content.as_bytes(),
            )?;
        }
    }
    write(
        "webhook",
        "test-msg",
        0x10,
        r#"{"testMsg":"回调地址链接成功！","token":"t"}"#.as_bytes(),
    )?;
    println!(
        "{} envelope examples, {} callback fixtures",
        envelopes.len(),
        fixtures.len()
    );
    Ok(())
}

/// Every object with a `ret` and a `msg` or `data`: the envelope examples.
fn collect_envelopes(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if map.contains_key("ret") && (map.contains_key("msg") || map.contains_key("data")) {
                out.push(serde_json::to_string_pretty(v).expect("JSON"));
            }
            map.values().for_each(|c| collect_envelopes(c, out));
        }
        Value::Array(items) => items.iter().for_each(|c| collect_envelopes(c, out)),
        _ => {}
    }
}

fn write(target: &str, name: &str, mode: u8, body: &[u8]) -> std::io::Result<()> {
    let dir = Path::new("corpus").join(target);
    fs::create_dir_all(&dir)?;
    let mut bytes = vec![mode];
    bytes.extend_from_slice(body);
    fs::write(dir.join(name), bytes)
}
