//! The edits build.rs makes on progenitor's output, on the syntax tree.

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

use std::path::Path;

#[test]
fn the_api_version_header_map_leaves_every_method_and_nothing_else() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let merged = pipeline::spec(root).unwrap().merged;
    let operations = codegen::operations(&merged).len();
    let (client, _) = codegen::progenitor(&merged).unwrap();
    let before = codegen::render(client.clone());
    assert_eq!(before.matches("\"api-version\"").count(), operations);

    let mut file = codegen::parse(client).unwrap();
    codegen::drop_api_version(&mut file, operations).unwrap();
    let after = codegen::render_file(file.clone());
    assert!(!after.contains("api-version") && !after.contains("header_map"));
    // The rest of each request is kept: the body, the build, the hooks.
    assert_eq!(after.matches(".json(&body)").count(), operations);
    assert_eq!(after.matches(".build()?;").count(), operations);
    assert_eq!(
        after.matches("self.pre(&mut request, &info)").count(),
        operations
    );

    // Output of another shape (here: already edited) fails, saying what was found.
    let err = codegen::drop_api_version(&mut file, operations).unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "expected the api-version header map in each of the {operations} methods, found 0 maps, 0 api-version appends and 0 uses"
        )),
        "{err}"
    );
}

/// The short form generated from some of the repo's exports, after `edit` changed them.
fn short_form(files: &[&str], edit: impl Fn(&mut serde_json::Value)) -> syn::File {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let normalized = files
        .iter()
        .map(|f| {
            let mut src = spec::load(root, &root.join(f)).unwrap();
            edit(&mut src.doc);
            spec::normalize(&src).unwrap()
        })
        .collect();
    let merged = spec::merge(normalized).unwrap();
    let ops = codegen::operations(&merged);
    let (client, _) = codegen::progenitor(&merged).unwrap();
    let client = codegen::parse(client).unwrap();
    let plans = calls::plan(&ops, &merged, &client).unwrap();
    syn::parse2(calls::calls(&plans, &merged, &client)).unwrap()
}

/// Every function's signature, as `owner::name(args) -> output`, and every struct's fields.
fn signatures(file: &syn::File) -> std::collections::BTreeSet<String> {
    use quote::ToTokens;
    let mut out = std::collections::BTreeSet::new();
    fn walk(items: &[syn::Item], out: &mut std::collections::BTreeSet<String>) {
        for item in items {
            match item {
                syn::Item::Impl(block) if block.trait_.is_none() => {
                    let owner = block.self_ty.to_token_stream().to_string();
                    for f in &block.items {
                        if let syn::ImplItem::Fn(f) = f {
                            out.insert(format!("{owner}::{}", f.sig.to_token_stream()));
                        }
                    }
                }
                syn::Item::Struct(s) => {
                    out.insert(format!("struct {}", s.to_token_stream()));
                }
                syn::Item::Mod(m) => {
                    if let Some((_, items)) = &m.content {
                        walk(items, out);
                    }
                }
                _ => {}
            }
        }
    }
    walk(&file.items, &mut out);
    out
}

#[test]
fn a_new_optional_field_adds_a_setter_and_changes_no_signature() {
    // postText has two required fields, postLink five (a struct of named fields).
    let files = [
        "openapi/message/postText.yaml",
        "openapi/message/postLink.yaml",
    ];
    let before = signatures(&short_form(&files, |_| {}));
    let after = signatures(&short_form(&files, |doc| {
        for item in doc["paths"].as_object_mut().unwrap().values_mut() {
            let schema = &mut item["post"]["requestBody"]["content"]["application/json"]["schema"];
            schema["properties"]["replyTo"] =
                serde_json::json!({"type": "string", "description": "new in the docs"});
            schema["x-apifox-orders"]
                .as_array_mut()
                .unwrap()
                .push("replyTo".into());
        }
    }));
    let gone: Vec<_> = before.difference(&after).collect();
    let new: Vec<_> = after.difference(&before).collect();
    assert!(gone.is_empty(), "signatures changed: {gone:#?}");
    assert_eq!(new.len(), 2, "{new:#?}");
    for (sig, request) in new
        .iter()
        .zip(["MessagePostLinkRequest", "MessagePostTextRequest"])
    {
        assert_eq!(
            **sig,
            format!("crate :: Call < types :: {request} >::fn reply_to (mut self , reply_to : impl Into < :: std :: string :: String >) -> Self")
        );
    }
}

#[test]
fn required_fields_come_in_the_pages_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let merged = pipeline::spec(root).unwrap().merged;
    let ops = codegen::operations(&merged);
    let (client, _) = codegen::progenitor(&merged).unwrap();
    let client = codegen::parse(client).unwrap();
    let plans = calls::plan(&ops, &merged, &client).unwrap();
    let args = |path: &str| {
        let plan = plans.iter().find(|p| p.op.path == path).unwrap();
        plan.required
            .iter()
            .map(|f| f.wire.clone())
            .collect::<Vec<_>>()
    };
    // The pages' x-apifox-orders, which are neither alphabetical nor the file's `properties`
    // order (/finder/comment lists `content` first in x-apifox-orders only).
    assert_eq!(args("/message/postText"), ["toWxid", "content"]);
    assert_eq!(
        args("/message/revokeMsg"),
        ["toWxid", "msgId", "newMsgId", "createTime"]
    );
    assert_eq!(
        args("/group/inviteMember"),
        ["wxids", "chatroomId", "reason"]
    );
    assert_eq!(args("/finder/comment")[..2], ["content", "objectId"]);
    // Names: the path without a module's name; a segment that is no module stays.
    let name = |path: &str| {
        let plan = plans.iter().find(|p| p.op.path == path).unwrap();
        format!("{}().{}", plan.op.module, plan.method)
    };
    assert_eq!(name("/message/postText"), "message().post_text");
    assert_eq!(name("/login/logout"), "account().logout");
    assert_eq!(name("/im/search"), "contacts().im_search");
    assert_eq!(name("/contacts/search"), "contacts().search");
    assert_eq!(name("/message/sendFinderMsg"), "finder().send_finder_msg");
    // Sixteen operations take more than four required fields, as one struct of named fields.
    let many: Vec<&str> = plans
        .iter()
        .filter(|p| p.takes_args())
        .map(|p| p.op.path.as_str())
        .collect();
    assert_eq!(many.len(), 16, "{many:?}");
    assert_eq!(plans.len(), ops.len());
}

#[test]
fn only_requests_whose_one_required_field_is_the_app_id_derive_default() {
    use quote::ToTokens;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let merged = pipeline::spec(root).unwrap().merged;
    let ops = codegen::operations(&merged);
    let (client, _) = codegen::progenitor(&merged).unwrap();
    let mut client = codegen::parse(client).unwrap();
    let plans = calls::plan(&ops, &merged, &client).unwrap();
    let defaults = calls::default_requests(&plans);
    codegen::derive_default(&mut client, &defaults);
    let mut derived = std::collections::BTreeSet::new();
    let mut requests = 0;
    fn structs(items: &[syn::Item], out: &mut Vec<syn::ItemStruct>) {
        for item in items {
            match item {
                syn::Item::Struct(s) => out.push(s.clone()),
                syn::Item::Mod(m) => {
                    if let Some((_, items)) = &m.content {
                        structs(items, out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut all = Vec::new();
    structs(&client.items, &mut all);
    for s in all
        .iter()
        .filter(|s| s.ident.to_string().ends_with("Request"))
    {
        requests += 1;
        let derives = s
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("derive"))
            .map(|a| a.to_token_stream().to_string())
            .collect::<String>();
        if derives.contains("Default") {
            derived.insert(s.ident.to_string());
        }
    }
    assert_eq!(requests, operations_with_requests(&merged));
    assert_eq!(derived, defaults);
    for name in &defaults {
        let required = &merged["components"]["schemas"][name]["required"];
        assert_eq!(required, &serde_json::json!(["appId"]), "{name}");
    }
    assert!(defaults.contains("PersonalGetProfileRequest"));
    assert!(!defaults.contains("MessagePostTextRequest"));
}

fn operations_with_requests(merged: &serde_json::Value) -> usize {
    codegen::operations(merged)
        .iter()
        .filter(|o| o.request.is_some())
        .count()
}

#[test]
fn every_operation_has_a_tier_from_the_overlay() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let merged = pipeline::spec(root).unwrap().merged;
    let ops = codegen::operations(&merged);
    let (tiers, untiered) = codegen::tiers(&ops).expect("every tier is a known name");
    assert!(untiered.is_empty(), "{untiered:#?}");
    assert_eq!(tiers.len(), gewe::operations().len());
    // The library's table says the same as the overlay, operation by operation.
    for (op, tier) in gewe::operations().iter().zip(&tiers) {
        assert_eq!(op.tier().name(), tier.name(), "{}", op.path);
    }
    for op in gewe::operations() {
        if op.path.starts_with("/login/") {
            assert_eq!(op.tier(), gewe::Tier::Admin, "{}", op.path);
        }
    }
    let tier = |path: &str| gewe::operation(path).expect(path).tier();
    assert_eq!(tier("/login/setCallback"), gewe::Tier::Admin);
    assert_eq!(tier("/login/logout"), gewe::Tier::Admin);
    assert_eq!(tier("/login/getLoginQrCode"), gewe::Tier::Admin);
    assert_eq!(tier("/message/postText"), gewe::Tier::Send);
    assert_eq!(tier("/message/revokeMsg"), gewe::Tier::Destructive);
    assert_eq!(tier("/group/pinChat"), gewe::Tier::Write);
    assert_eq!(tier("/contacts/getBriefInfo"), gewe::Tier::Read);
}

#[test]
fn a_tier_that_is_not_a_name_fails_the_build_and_a_missing_one_is_admin() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut merged = pipeline::spec(root).unwrap().merged;
    let paths = merged["paths"].as_object_mut().unwrap();
    let mut items = paths.values_mut();
    items.next().unwrap()["post"]
        .as_object_mut()
        .unwrap()
        .remove(codegen::TIER_KEY);
    let ops = codegen::operations(&merged);
    let (tiers, untiered) = codegen::tiers(&ops).unwrap();
    assert_eq!(tiers[0], codegen::Tier::Admin);
    assert_eq!(untiered.len(), 1, "{untiered:?}");
    assert!(untiered[0].contains(&ops[0].path), "{}", untiered[0]);

    let paths = merged["paths"].as_object_mut().unwrap();
    paths.values_mut().next().unwrap()["post"][codegen::TIER_KEY] = "harmless".into();
    let Err(err) = codegen::tiers(&codegen::operations(&merged)) else {
        panic!("an unknown tier is refused")
    };
    assert!(
        err.message
            .contains("`x-gewe-tier: \"harmless\"` is not a tier"),
        "{}",
        err.message
    );
    assert!(
        err.message
            .contains("read, write, send, destructive, admin"),
        "{}",
        err.message
    );
}
