//! A re-export cannot break the build silently: every export rewritten into the plainest form
//! apifox could emit for it, then built with the project's own steps and overlays, gives the
//! same client as the committed files: the same method signatures (the short-form calls' too,
//! whose argument order is the page's) and the same types, field for field.

#[path = "../build/calls.rs"]
#[allow(dead_code)]
mod calls;
#[path = "../build/codegen.rs"]
#[allow(dead_code)]
mod codegen;
#[path = "../build/docs.rs"]
mod docs;
#[path = "../build/overlay.rs"]
mod overlay;
#[path = "../build/pipeline.rs"]
#[allow(dead_code)]
mod pipeline;
#[path = "../build/spec/mod.rs"]
#[allow(dead_code, unused_imports)]
mod spec;

use quote::ToTokens;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An export as plain as apifox could write it: no `x-apifox-*` key but `x-apifox-orders`,
/// nullability as apifox writes it (`type: X` with `nullable: true`), and every mapping's keys
/// in the reverse order.
fn plainest(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                if key.starts_with("x-apifox-") && key != "x-apifox-orders" {
                    continue;
                }
                out.insert(key.clone(), plainest(value));
            }
            if let Some(Value::Array(types)) = out.get("type").cloned() {
                let real: Vec<&Value> = types.iter().filter(|t| *t != "null").collect();
                if real.len() == 1 && real.len() < types.len() {
                    out.insert("type".into(), real[0].clone());
                    out.insert("nullable".into(), json!(true));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(plainest).collect()),
        other => other.clone(),
    }
}

/// JSON (which YAML 1.2 reads as it is) with each mapping's keys in reverse order.
fn write_reversed(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            out.push('{');
            for (i, (key, value)) in map.iter().rev().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_reversed(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_reversed(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A copy of the crate's `openapi/` in a temp dir, each export in its plainest form.
fn reexported(root: &Path) -> PathBuf {
    let copy = std::env::temp_dir().join(format!("gewe-reexport-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    let layout = spec::discover(&root.join("openapi")).unwrap();
    let write = |file: &Path, text: &str| {
        let target = copy.join(file.strip_prefix(root).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, text).unwrap();
    };
    for file in &layout.exports {
        let src = spec::load(root, file).unwrap();
        let mut text = String::new();
        write_reversed(&plainest(&src.doc), &mut text);
        write(file, &text);
    }
    for file in layout.ours.iter().chain(&layout.overlays) {
        write(file, &std::fs::read_to_string(file).unwrap());
    }
    copy
}

/// What users of the generated client see: every method's signature and every type's fields
/// (with their serde attributes) or variants, by name.
#[derive(Default)]
struct Surface {
    methods: BTreeMap<String, String>,
    types: BTreeMap<String, BTreeMap<String, String>>,
}

fn surface(merged: &Value) -> Surface {
    let (client, enums) = codegen::progenitor(merged).expect("progenitor");
    let ops = codegen::operations(merged);
    let wrapper = codegen::wrapper(&ops);
    let file = codegen::parse(client.clone()).expect("progenitor's Rust parses");
    let plans = calls::plan(&ops, merged, &file).expect("every request has its struct");
    let short = calls::calls(&plans, merged, &file);
    let mut s = Surface::default();
    for (origin, tokens) in [
        ("raw", client),
        ("typed", wrapper),
        ("enums", enums),
        ("calls", short),
    ] {
        let file: syn::File = syn::parse2(tokens).expect("generated Rust parses");
        collect(origin, &file.items, &mut s);
    }
    s
}

fn tokens(t: &impl ToTokens) -> String {
    t.to_token_stream().to_string()
}

fn serde_attrs(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .map(tokens)
        .collect::<Vec<_>>()
        .join(" ")
}

fn collect(origin: &str, items: &[syn::Item], s: &mut Surface) {
    for item in items {
        match item {
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    collect(origin, items, s);
                }
            }
            syn::Item::Impl(block) if block.trait_.is_none() => {
                let owner = tokens(&block.self_ty);
                // The short form's methods are on handles and calls, not only on `Client`.
                if origin != "calls" && owner != "Client" && owner != "crate :: Client" {
                    continue;
                }
                for f in &block.items {
                    if let syn::ImplItem::Fn(f) = f {
                        s.methods
                            .insert(format!("{origin} {owner}::{}", f.sig.ident), tokens(&f.sig));
                    }
                }
            }
            syn::Item::Struct(st) => {
                let fields = st
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let name = f.ident.as_ref().map_or(i.to_string(), ToString::to_string);
                        (name, format!("{} {}", serde_attrs(&f.attrs), tokens(&f.ty)))
                    })
                    .collect();
                s.types.insert(format!("struct {}", st.ident), fields);
            }
            syn::Item::Enum(e) => {
                let variants = e
                    .variants
                    .iter()
                    .map(|v| {
                        let shape = format!("{} {}", serde_attrs(&v.attrs), tokens(&v.fields));
                        (v.ident.to_string(), shape)
                    })
                    .collect();
                s.types.insert(format!("enum {}", e.ident), variants);
            }
            syn::Item::Impl(block) => {
                // Trait impls carry the enums' wire values (`From<&str>`, `value()`).
                if let Some((path, _)) = &block.trait_ {
                    let key = format!("impl {} for {}", tokens(path), tokens(&block.self_ty));
                    s.types
                        .entry(key)
                        .or_default()
                        .insert("body".into(), tokens(block));
                }
            }
            _ => {}
        }
    }
}

fn differences<V: PartialEq + std::fmt::Debug>(
    what: &str,
    committed: &BTreeMap<String, V>,
    reexport: &BTreeMap<String, V>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, c) in committed {
        match reexport.get(name) {
            None => out.push(format!("{what} `{name}` is gone")),
            Some(r) if r != c => out.push(format!("{what} `{name}`: {c:?} became {r:?}")),
            Some(_) => {}
        }
    }
    for name in reexport.keys().filter(|n| !committed.contains_key(*n)) {
        out.push(format!("{what} `{name}` is new"));
    }
    out
}

#[test]
fn the_plainest_reexport_gives_the_same_client() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let copy = reexported(root);
    let committed = pipeline::spec(root).expect("the committed files build");
    let plain = pipeline::spec(&copy).expect("the plainest re-export builds, overlays included");
    let _ = std::fs::remove_dir_all(&copy);

    let (a, b) = (surface(&committed.merged), surface(&plain.merged));
    assert!(
        a.methods.len() > 2 * 133 && a.types.len() > 500,
        "{} methods, {} types",
        a.methods.len(),
        a.types.len()
    );
    let mut found = differences("method", &a.methods, &b.methods);
    for (name, fields) in &a.types {
        match b.types.get(name) {
            Some(other) => found.extend(differences(&format!("{name}: field"), fields, other)),
            None => found.push(format!("{name} is gone")),
        }
    }
    found.extend(
        b.types
            .keys()
            .filter(|n| !a.types.contains_key(*n))
            .map(|n| format!("{n} is new")),
    );
    assert!(
        found.is_empty(),
        "the re-export changed the client:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_comparison_sees_a_lost_enum() {
    // The check itself: a re-export that renamed a field would, without the overlay's failure,
    // turn an enum into a plain integer; the surfaces then differ.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed = pipeline::spec(root).unwrap();
    let mut changed = committed.merged.clone();
    let status = changed
        .pointer_mut("/components/schemas/LoginCheckLoginData/properties/status")
        .expect("checkLogin's status");
    *status = json!({"type": "integer", "nullable": true});
    let (a, b) = (surface(&committed.merged), surface(&changed));
    assert!(a.types.contains_key("enum LoginCheckLoginDataStatus"));
    assert!(!b.types.contains_key("enum LoginCheckLoginDataStatus"));
    assert_ne!(
        a.types["struct LoginCheckLoginData"]["status"],
        b.types["struct LoginCheckLoginData"]["status"]
    );
}

#[test]
fn a_broken_example_constraint_is_not_enforced_by_the_generated_client() {
    // GeWe's /sns/uploadSnsImage export without our overlay: `minLength: 1` and `maxLength: 9`
    // on each URL. Generated as the export says, each URL would refuse 28 characters; after
    // the documentation-error rule only the bound the example keeps is checked.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = root.join("openapi/sns/uploadSnsImage.yaml");
    let mut src = spec::load(root, &file).unwrap();
    let items = src
        .doc
        .pointer_mut("/paths/~1gewe~1v2~1api~1sns~1uploadSnsImage/post/requestBody/content/application~1json/schema/properties/imgUrls/items")
        .unwrap();
    assert_eq!(items["maxLength"], 9, "the export still has GeWe's quirk");
    let normalized = spec::normalize(&src).unwrap();
    assert_eq!(normalized.warnings.len(), 1, "{:?}", normalized.warnings);
    let merged = spec::merge(vec![normalized]).unwrap();
    let (client, _) = codegen::progenitor(&merged).expect("progenitor");
    let code = codegen::render(client);
    let item = code
        .split("impl ::std::str::FromStr for SnsUploadSnsImageRequestImgUrlsItem")
        .nth(1)
        .expect("each URL is a checked string");
    let check = &item[..item.find("impl ").unwrap_or(item.len())];
    assert!(check.contains("shorter than 1 character"), "{check}");
    assert!(!check.contains("longer than"), "{check}");
}
