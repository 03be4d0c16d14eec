//! Generate Rust from the merged spec: progenitor for the types and the raw client, then the
//! typed wrapper methods and the dispatch table on top of it.

use crate::docs;
use crate::spec::{self, SpecError};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The operation extension our overlay (`openapi/overlays/tiers.yaml`) puts the safety tier in.
pub const TIER_KEY: &str = "x-gewe-tier";

// The tier names are the library's own table, read here too so the two cannot drift.
#[allow(dead_code)]
#[path = "../src/tier.rs"]
mod tier;
pub use tier::Tier;

/// The component every 64-bit id points to in the generator's view; replaced by `crate::Id`.
const ID_COMPONENT: &str = "GeweId";

/// What codegen needs to know about one operation.
pub struct OpInfo {
    pub id: String,
    pub path: String,
    pub method: String,
    pub module: String,
    /// The docs' folder, e.g. `基础API/群模块`.
    pub folder: String,
    pub file: String,
    pub summary: String,
    pub description: String,
    pub deprecated: bool,
    pub request: Option<String>,
    pub data: Option<String>,
    /// The `x-gewe-tier` as written, if the overlay gives one.
    pub tier: Option<Value>,
}

/// Operations of the merged spec, in path order.
pub fn operations(merged: &Value) -> Vec<OpInfo> {
    let mut out = Vec::new();
    let schemas = merged
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    let Some(paths) = merged.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let s = |k: &str| op.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let id = s("operationId");
            let base = spec::pascal_case(&id);
            let has = |name: &str| schemas.is_some_and(|s| s.contains_key(name));
            let request = format!("{base}Request");
            let data = format!("{base}Data");
            out.push(OpInfo {
                path: path.clone(),
                method: method.clone(),
                module: op
                    .pointer("/tags/0")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                folder: s("x-gewe-folder"),
                file: s("x-gewe-source"),
                summary: s("summary"),
                description: s("description"),
                deprecated: op
                    .get("deprecated")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                request: has(&request).then_some(request),
                data: has(&data).then_some(data),
                tier: op.get(TIER_KEY).cloned(),
                id,
            });
        }
    }
    out
}

/// Each operation's tier. A tier that is not one of [`Tier::ALL`]'s names is an error; an
/// operation without one is `admin`, with a warning naming it.
pub fn tiers(ops: &[OpInfo]) -> Result<(Vec<Tier>, Vec<String>), SpecError> {
    let mut warnings = Vec::new();
    let tiers = ops
        .iter()
        .map(|op| match &op.tier {
            None => {
                warnings.push(format!(
                    "{} has no `{TIER_KEY}` in openapi/overlays/tiers.yaml: it is `admin`",
                    op.path
                ));
                Ok(Tier::Admin)
            }
            Some(value) => value.as_str().and_then(Tier::from_name).ok_or_else(|| {
                let names: Vec<&str> = Tier::ALL.iter().map(|t| t.name()).collect();
                SpecError::new(
                    &op.file,
                    "",
                    format!(
                        "{}: `{TIER_KEY}: {value}` is not a tier; expected one of {}",
                        op.path,
                        names.join(", ")
                    ),
                )
            }),
        })
        .collect::<Result<_, _>>()?;
    Ok((tiers, warnings))
}

/// An enumerated field: GeWe documents its values, and may add more later.
pub struct EnumDef {
    pub name: String,
    pub integer: bool,
    pub description: String,
    /// `(variant, wire value, meaning)`.
    pub variants: Vec<(String, Value, String)>,
}

/// The document progenitor sees: every response becomes a raw body (the wrapper reads GeWe's
/// envelope itself, so a failure's `data` never has to fit the success type), ids point to
/// `crate::Id`, enums to handwritten-shape types with an `Other` value, and descriptions are
/// rustdoc-safe.
pub fn generator_view(merged: &Value) -> (Value, Vec<EnumDef>) {
    let mut view = merged.clone();
    let mut enums = Vec::new();
    if let Some(paths) = view.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            for op in item
                .as_object_mut()
                .into_iter()
                .flat_map(|m| m.values_mut())
            {
                op["responses"] = json!({
                    "default": {"description": "GeWe envelope", "content": {"application/octet-stream": {}}}
                });
                if let Some(m) = op
                    .pointer_mut("/requestBody/content/application~1json")
                    .and_then(Value::as_object_mut)
                {
                    m.remove("examples");
                }
                if let Some(m) = op.as_object_mut() {
                    m.remove("summary");
                    m.remove("description");
                }
            }
        }
    }
    if let Some(schemas) = view
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            rewrite_schema(schema, name, &mut enums);
        }
        schemas.insert(ID_COMPONENT.into(), json!({"type": "integer"}));
        for e in &enums {
            schemas.insert(
                e.name.clone(),
                json!({"type": if e.integer { "integer" } else { "string" }}),
            );
        }
    }
    (view, enums)
}

fn rewrite_schema(schema: &mut Value, name: &str, enums: &mut Vec<EnumDef>) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::String(d)) = map.get_mut("description") {
        *d = docs::clean(d);
    }
    map.remove("example");
    if let Some(def) = enum_def(map, name) {
        let description = def.description.clone();
        enums.push(def);
        *schema = json!({"allOf": [{"$ref": format!("#/components/schemas/{name}")}], "description": description});
        return;
    }
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for (prop, p) in props.iter_mut() {
            if spec::is_id_property(prop, p) {
                let description = p
                    .get("description")
                    .and_then(Value::as_str)
                    .map(docs::clean);
                let description = description
                    .filter(|d| !d.trim().is_empty())
                    .unwrap_or_else(|| format!("GeWe's `{prop}`."));
                // A single-entry allOf keeps the field's description next to the id type.
                *p = json!({"allOf": [{"$ref": format!("#/components/schemas/{ID_COMPONENT}")}], "description": description});
                continue;
            }
            rewrite_schema(
                p,
                &format!("{name}{}", spec::pascal_case(&spec::snake_case(prop))),
                enums,
            );
        }
    }
    if let Some(v) = map.get_mut("items") {
        rewrite_schema(v, &format!("{name}Item"), enums);
    }
    if let Some(v) = map.get_mut("additionalProperties") {
        rewrite_schema(v, &format!("{name}Value"), enums);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(subs)) = map.get_mut(key) {
            for (i, sub) in subs.iter_mut().enumerate() {
                rewrite_schema(sub, &format!("{name}{}", i + 1), enums);
            }
        }
    }
}

/// A string or integer schema with `enum` becomes an [`EnumDef`]; variant names come from
/// apifox's enum names (`x-enum-varnames`) or from the values.
fn enum_def(map: &Map<String, Value>, name: &str) -> Option<EnumDef> {
    let values = map.get("enum")?.as_array()?;
    let integer = match map.get("type").and_then(Value::as_str) {
        Some("integer") => true,
        Some("string") => false,
        _ => return None,
    };
    let names = map.get("x-enum-varnames").and_then(Value::as_array);
    let meanings = map.get("x-enum-descriptions").and_then(Value::as_array);
    let mut variants: Vec<(String, Value, String)> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let given = names
            .and_then(|n| n.get(i))
            .and_then(Value::as_str)
            .map(|n| spec::pascal_case(&spec::snake_case(n)));
        let from_value = match v {
            Value::String(s) => spec::pascal_case(&spec::snake_case(s)),
            other => format!("V{}", other.to_string().replace('-', "Minus")),
        };
        let mut variant = given.filter(|g| !g.is_empty()).unwrap_or(from_value);
        if variant.is_empty() || variant.starts_with(|c: char| c.is_ascii_digit()) {
            variant = format!("V{variant}");
        }
        if variant == "Other" || variants.iter().any(|(n, _, _)| *n == variant) {
            variant = format!("{variant}{}", i + 1);
        }
        let meaning = meanings
            .and_then(|m| m.get(i))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        variants.push((variant, v.clone(), docs::clean(&meaning)));
    }
    let description = map
        .get("description")
        .and_then(Value::as_str)
        .map(docs::clean)
        .unwrap_or_default();
    Some(EnumDef {
        name: name.to_string(),
        integer,
        description,
        variants,
    })
}

/// The Rust of the enumerated types: named values, and `Other` for a value GeWe adds later, so a
/// new value never fails decoding.
pub fn enums(defs: &[EnumDef]) -> TokenStream {
    let items = defs.iter().map(|e| {
        let name = format_ident!("{}", e.name);
        let idents: Vec<_> = e.variants.iter().map(|(v, _, _)| format_ident!("{}", v)).collect();
        let docs: Vec<String> = e
            .variants
            .iter()
            .map(|(_, value, meaning)| {
                let value = match value {
                    Value::String(s) => format!("\"{s}\""),
                    other => other.to_string(),
                };
                if meaning.is_empty() { format!(" `{value}`") } else { format!(" `{value}`: {}", meaning.replace('\n', " ")) }
            })
            .collect();
        let mut doc = vec![format!(" {}", if e.description.is_empty() { e.name.as_str() } else { e.description.lines().next().unwrap_or("") })];
        doc.extend(e.description.lines().skip(1).map(|l| format!(" {l}")));
        doc.push(String::new());
        doc.push(" A value GeWe adds later decodes as `Other`.".into());
        let (other_ty, wire_ty, ser) = if e.integer {
            (quote!(i64), quote!(i64), quote!(s.serialize_i64(v)))
        } else {
            (quote!(String), quote!(&str), quote!(s.serialize_str(v)))
        };
        let wire_values: Vec<TokenStream> = if e.integer {
            e.variants.iter().map(|(_, v, _)| { let i = v.as_i64().unwrap_or_default(); quote!(#i) }).collect()
        } else {
            e.variants.iter().map(|(_, v, _)| { let s = v.as_str().unwrap_or_default(); quote!(#s) }).collect()
        };
        let other_value = if e.integer { quote!(*v) } else { quote!(v.as_str()) };
        let from_wire = if e.integer { quote!(v) } else { quote!(v.as_str()) };
        let instance = if e.integer { quote!(Integer) } else { quote!(String) };
        let enum_values: Vec<TokenStream> = wire_values.iter().map(|w| quote!(serde_json::json!(#w))).collect();
        quote! {
            #(#[doc = #doc])*
            #[derive(Clone, Debug, PartialEq, Eq, Hash)]
            pub enum #name {
                #(#[doc = #docs] #idents,)*
                /// A value this version of the crate does not know.
                Other(#other_ty),
            }

            impl #name {
                /// The value GeWe sends for it.
                pub fn value(&self) -> #wire_ty {
                    match self {
                        #(Self::#idents => #wire_values,)*
                        Self::Other(v) => #other_value,
                    }
                }
            }

            impl From<#wire_ty> for #name {
                fn from(v: #wire_ty) -> Self {
                    match v {
                        #(#wire_values => Self::#idents,)*
                        _ => Self::Other(v.to_owned()),
                    }
                }
            }

            impl std::fmt::Display for #name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    write!(f, "{}", self.value())
                }
            }

            impl serde::Serialize for #name {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    let v = self.value();
                    #ser
                }
            }

            impl<'de> serde::Deserialize<'de> for #name {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    let v = <#other_ty as serde::Deserialize>::deserialize(d)?;
                    Ok(Self::from(#from_wire))
                }
            }

            impl schemars::JsonSchema for #name {
                fn schema_name() -> String {
                    stringify!(#name).to_string()
                }

                fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
                    schemars::schema::SchemaObject {
                        instance_type: Some(schemars::schema::InstanceType::#instance.into()),
                        enum_values: Some(vec![#(#enum_values),*]),
                        ..Default::default()
                    }
                    .into()
                }
            }
        }
    });
    quote!(#(#items)*)
}

/// Maps a JSON pointer in the generator's view back to the spec file it came from.
pub fn file_of(merged: &Value, pointer: &str) -> String {
    let ops = operations(merged);
    for op in &ops {
        let base = spec::pascal_case(&op.id);
        if pointer.contains(&spec::escape(&op.path)) || pointer.contains(&format!("/{base}")) {
            return op.file.clone();
        }
    }
    "openapi/".to_string()
}

/// Runs progenitor on the generator's view.
pub fn progenitor(merged: &Value) -> Result<(TokenStream, TokenStream), SpecError> {
    let (view, enum_defs) = generator_view(merged);
    let api: openapiv3::OpenAPI = serde_path_to_error::deserialize(view).map_err(|e| {
        let pointer = format!("/{}", e.path().to_string().replace('.', "/"));
        SpecError::new(
            &file_of(merged, &pointer),
            &pointer,
            format!("not valid OpenAPI 3.0: {}", e.inner()),
        )
    })?;
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Positional)
        .with_hooks(progenitor::HooksMode::Expected)
        .with_inner_type(quote!(crate::client::ClientState))
        .with_derive("schemars::JsonSchema")
        .with_derive("PartialEq")
        .with_replacement(ID_COMPONENT, "crate::Id", std::iter::empty());
    for e in &enum_defs {
        settings.with_replacement(
            &e.name,
            format!("crate::generated::enums::{}", e.name),
            std::iter::empty(),
        );
    }
    match generate(&settings, &api) {
        Ok(tokens) => Ok((tokens, enums(&enum_defs))),
        Err(message) => {
            Err(blame(merged, &settings).unwrap_or_else(|| SpecError::new("openapi/", "", message)))
        }
    }
}

/// Runs progenitor, turning its panics (it has a few on odd input) into messages.
fn generate(
    settings: &progenitor::GenerationSettings,
    api: &openapiv3::OpenAPI,
) -> Result<TokenStream, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result =
        std::panic::catch_unwind(|| progenitor::Generator::new(settings).generate_tokens(api));
    std::panic::set_hook(hook);
    match result {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(e)) => Err(format!("progenitor: {e}")),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(format!("progenitor failed: {msg}"))
        }
    }
}

/// Finds the spec file progenitor fails on by generating each operation alone, with only its
/// own components. Runs only when generation failed.
fn blame(merged: &Value, settings: &progenitor::GenerationSettings) -> Option<SpecError> {
    for op in operations(merged) {
        let base = spec::pascal_case(&op.id);
        let mut doc = merged.clone();
        if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
            paths.retain(|p, _| *p == op.path);
        }
        if let Some(schemas) = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
        {
            schemas.retain(|name, _| name.starts_with(&base));
        }
        let (view, _) = generator_view(&doc);
        let Ok(api) = serde_json::from_value::<openapiv3::OpenAPI>(view) else {
            continue;
        };
        if let Err(message) = generate(settings, &api) {
            return Some(SpecError::new(
                &op.file,
                &format!("/paths/{}", spec::escape(&op.path)),
                message,
            ));
        }
    }
    None
}

/// The typed wrapper methods on `crate::Client` and the dispatch table.
pub fn wrapper(ops: &[OpInfo]) -> TokenStream {
    let mut methods: BTreeMap<&str, (String, Vec<TokenStream>)> = BTreeMap::new();
    let mut metas = Vec::new();
    let mut dispatchers = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        let name = format_ident!("{}", op.id);
        let dispatch_name = format_ident!("dispatch_{}", op.id);
        let doc = method_doc(op);
        let deprecated = op
            .deprecated
            .then(|| quote!(#[deprecated(note = "GeWe marks this endpoint deprecated")]));
        let allow_deprecated = op.deprecated.then(|| quote!(#[allow(deprecated)]));
        let (param, arg, decode_body) = match &op.request {
            Some(req) => {
                let ty = format_ident!("{}", req);
                (
                    quote!(body: &types::#ty),
                    quote!(body),
                    quote!(let body: types::#ty = crate::dispatch::request_from_json(client, meta, body)?; let body = &body;),
                )
            }
            None => (quote!(), quote!(), quote!(let _ = body;)),
        };
        let data_ty = match &op.data {
            Some(d) => {
                let ty = format_ident!("{}", d);
                quote!(types::#ty)
            }
            None => quote!(crate::NoData),
        };
        let ret_ty = if op.data.is_some() {
            data_ty.clone()
        } else {
            quote!(())
        };
        let finish = if op.data.is_some() {
            quote!()
        } else {
            quote!(.map(|_| ()))
        };
        let group = methods
            .entry(op.module.as_str())
            .or_insert_with(|| (op.folder.clone(), Vec::new()));
        group.1.push(quote! {
            #(#[doc = #doc])*
            #deprecated
            pub async fn #name(&self, #param) -> crate::Result<#ret_ty> {
                let meta = &OPERATIONS[#index];
                self.execute::<#data_ty, _, _>(meta, || self.raw().#name(#arg)).await #finish
            }
        });
        let id = &op.id;
        let path = &op.path;
        let method = op.method.to_uppercase();
        let module = &op.module;
        let summary = &op.summary;
        let file = &op.file;
        let is_deprecated = op.deprecated;
        // `tiers` has refused a bad name by now; a missing one is `admin`.
        let tier = format_ident!(
            "{}",
            op.tier
                .as_ref()
                .and_then(Value::as_str)
                .and_then(Tier::from_name)
                .unwrap_or(Tier::Admin)
                .variant()
        );
        let request_schema = match &op.request {
            Some(req) => {
                let ty = format_ident!("{}", req);
                quote!(Some(|| schemars::schema_for!(types::#ty)))
            }
            None => quote!(None),
        };
        // The doc comment without its last paragraph (the path and spec file), as plain text.
        let mut doc_lines: Vec<&str> = doc
            .iter()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect();
        while doc_lines.last().is_some_and(|l| !l.is_empty()) {
            doc_lines.pop();
        }
        let docs_text = doc_lines.join("\n").trim().to_string();
        metas.push(quote! {
            crate::dispatch::Operation {
                id: #id,
                path: #path,
                method: #method,
                module: #module,
                summary: #summary,
                source: #file,
                deprecated: #is_deprecated,
                tier: crate::Tier::#tier,
                docs: #docs_text,
                request_schema: #request_schema,
                data_schema: || schemars::schema_for!(#data_ty),
                call: #dispatch_name,
            }
        });
        dispatchers.push(quote! {
            #allow_deprecated
            fn #dispatch_name(
                client: &crate::Client,
                body: serde_json::Value,
            ) -> crate::dispatch::BoxFuture<'_, crate::Result<crate::dispatch::JsonReply>> {
                Box::pin(async move {
                    let meta = &OPERATIONS[#index];
                    #decode_body
                    let (data, raw) = client.execute_full::<#data_ty, _, _>(meta, || client.raw().#name(#arg)).await?;
                    crate::dispatch::JsonReply::new(meta, &data, raw)
                })
            }
        });
    }
    let count = ops.len();
    // One impl block per docs module: rustdoc shows each with its heading, so a module's
    // methods are found together.
    let blocks = methods.into_iter().map(|(module, (folder, methods))| {
        let doc = if folder.is_empty() {
            format!(" # {module}")
        } else {
            format!(" # {module} ({folder})")
        };
        quote! {
            #[doc = #doc]
            impl crate::Client {
                #(#methods)*
            }
        }
    });
    quote! {
        #(#blocks)*

        /// Every operation of the merged spec, in path order.
        pub(crate) static OPERATIONS: [crate::dispatch::Operation; #count] = [#(#metas),*];

        #(#dispatchers)*
    }
}

/// The doc comment of an operation's methods: summary, description, GeWe's usage rule, path.
pub fn method_doc(op: &OpInfo) -> Vec<String> {
    let mut lines = vec![format!(
        " {}",
        if op.summary.is_empty() {
            &op.path
        } else {
            &op.summary
        }
    )];
    let description = docs::clean(&op.description);
    if !description.trim().is_empty() && description.trim() != op.summary.trim() {
        lines.push(String::new());
        lines.extend(description.lines().map(|l| format!(" {l}")));
    }
    if let Some(rule) = docs::usage_rule(&op.path) {
        lines.push(String::new());
        lines.push(format!(" **Usage rule:** {rule}"));
    }
    lines.push(String::new());
    lines.push(format!(
        " `{} {}` (spec: `{}`)",
        op.method.to_uppercase(),
        op.path,
        op.file
    ));
    lines
}

/// progenitor gives every request an `api-version` header (the spec's version) in a header map
/// of its own. GeWe documents no such header, and all header parameters are dropped, so the map
/// holds nothing else: remove it from each of the `operations` methods, so that the request on
/// the wire is what the docs describe and no map is built per call.
///
/// Works on the syntax tree, so progenitor's formatting does not matter; fails when the code
/// is not the shape this expects (a progenitor upgrade), naming what was found.
pub fn drop_api_version(file: &mut syn::File, operations: usize) -> Result<(), SpecError> {
    let mut found = HeaderMapUses::default();
    strip_header_map(&mut file.items, &mut found);
    if found
        != (HeaderMapUses {
            maps: operations,
            appends: operations,
            uses: operations,
        })
    {
        return Err(SpecError::new(
            "build/codegen.rs",
            "",
            format!(
                "progenitor's output changed: expected the api-version header map in each of the \
                 {operations} methods, found {} maps, {} api-version appends and {} uses",
                found.maps, found.appends, found.uses
            ),
        ));
    }
    Ok(())
}

/// How many of each part of progenitor's api-version header map were removed.
#[derive(Debug, Default, PartialEq)]
struct HeaderMapUses {
    /// `let mut header_map = HeaderMap::with_capacity(1usize);`
    maps: usize,
    /// `header_map.append(HeaderName::from_static("api-version"), …);`
    appends: usize,
    /// `.headers(header_map)` in the request builder chain.
    uses: usize,
}

const HEADER_MAP: &str = "header_map";

fn strip_header_map(items: &mut [syn::Item], found: &mut HeaderMapUses) {
    for item in items {
        match item {
            syn::Item::Mod(m) => {
                if let Some((_, items)) = m.content.as_mut() {
                    strip_header_map(items, found);
                }
            }
            syn::Item::Impl(block) => {
                for f in block.items.iter_mut() {
                    if let syn::ImplItem::Fn(f) = f {
                        strip_statements(&mut f.block.stmts, found);
                    }
                }
            }
            _ => {}
        }
    }
}

fn strip_statements(stmts: &mut Vec<syn::Stmt>, found: &mut HeaderMapUses) {
    stmts.retain(|stmt| {
        if is_api_version_map(stmt) {
            found.maps += 1;
            false
        } else if is_api_version_append(stmt) {
            found.appends += 1;
            false
        } else {
            true
        }
    });
    for stmt in stmts {
        if let syn::Stmt::Local(local) = stmt {
            if let Some(init) = local.init.as_mut() {
                found.uses += drop_headers_call(&mut init.expr);
            }
        }
    }
}

/// `let mut header_map = …::HeaderMap::with_capacity(1usize);`: a map for the one header.
fn is_api_version_map(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Local(local) = stmt else {
        return false;
    };
    let syn::Pat::Ident(pat) = &local.pat else {
        return false;
    };
    let Some(syn::Expr::Call(call)) = local.init.as_ref().map(|i| &*i.expr) else {
        return false;
    };
    pat.ident == HEADER_MAP
        && path_ends_with(&call.func, &["HeaderMap", "with_capacity"])
        && matches!(call.args.first(), Some(syn::Expr::Lit(l)) if matches!(&l.lit, syn::Lit::Int(n) if n.base10_digits() == "1"))
}

/// `header_map.append(…::HeaderName::from_static("api-version"), …);`
fn is_api_version_append(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Expr(syn::Expr::MethodCall(call), Some(_)) = stmt else {
        return false;
    };
    let Some(syn::Expr::Call(name)) = call.args.first() else {
        return false;
    };
    call.method == "append"
        && is_ident(&call.receiver, HEADER_MAP)
        && path_ends_with(&name.func, &["HeaderName", "from_static"])
        && matches!(name.args.first(), Some(syn::Expr::Lit(l)) if matches!(&l.lit, syn::Lit::Str(s) if s.value() == "api-version"))
}

/// Replaces `<receiver>.headers(header_map)` in a method-call chain by `<receiver>`.
fn drop_headers_call(expr: &mut syn::Expr) -> usize {
    match expr {
        syn::Expr::MethodCall(call)
            if call.method == "headers"
                && call.args.len() == 1
                && call.args.first().is_some_and(|a| is_ident(a, HEADER_MAP)) =>
        {
            let receiver = std::mem::replace(&mut *call.receiver, syn::Expr::PLACEHOLDER);
            *expr = receiver;
            1 + drop_headers_call(expr)
        }
        syn::Expr::MethodCall(call) => drop_headers_call(&mut call.receiver),
        syn::Expr::Try(t) => drop_headers_call(&mut t.expr),
        syn::Expr::Await(a) => drop_headers_call(&mut a.base),
        _ => 0,
    }
}

fn is_ident(expr: &syn::Expr, name: &str) -> bool {
    matches!(expr, syn::Expr::Path(p) if p.path.is_ident(name))
}

fn path_ends_with(expr: &syn::Expr, tail: &[&str]) -> bool {
    let syn::Expr::Path(p) = expr else {
        return false;
    };
    let segments: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments.len() >= tail.len() && segments[segments.len() - tail.len()..] == *tail
}

/// Adds `Default` to the request structs named in `names`.
pub fn derive_default(file: &mut syn::File, names: &std::collections::BTreeSet<String>) {
    fn walk(items: &mut [syn::Item], names: &std::collections::BTreeSet<String>) {
        for item in items {
            match item {
                syn::Item::Mod(m) => {
                    if let Some((_, items)) = m.content.as_mut() {
                        walk(items, names);
                    }
                }
                syn::Item::Struct(s) if names.contains(&s.ident.to_string()) => {
                    s.attrs.push(syn::parse_quote!(#[derive(Default)]));
                }
                _ => {}
            }
        }
    }
    walk(&mut file.items, names);
}

/// typify's functions for serde defaults are private to its `types` module; the generated
/// calls start an unset field from the same value, so they are made visible to the crate.
pub fn widen_defaults(file: &mut syn::File) {
    for item in file.items.iter_mut() {
        let syn::Item::Mod(types) = item else {
            continue;
        };
        let Some((_, items)) = types.content.as_mut() else {
            continue;
        };
        for item in items.iter_mut() {
            let syn::Item::Mod(defaults) = item else {
                continue;
            };
            if defaults.ident != "defaults" {
                continue;
            }
            for f in defaults
                .content
                .iter_mut()
                .flat_map(|(_, items)| items.iter_mut())
            {
                if let syn::Item::Fn(f) = f {
                    f.vis = syn::parse_quote!(pub(crate));
                }
            }
        }
    }
}

/// Pretty-prints generated tokens; a parse failure keeps the raw text so the compiler explains it.
pub fn render(tokens: TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => render_file(file),
        Err(_) => tokens.to_string(),
    }
}

/// Pretty-prints a parsed file, documenting what typify leaves undocumented.
pub fn render_file(mut file: syn::File) -> String {
    document(&mut file.items);
    prettyplease::unparse(&file)
}

/// The generated client as a syntax tree, for the edits made on it.
pub fn parse(tokens: TokenStream) -> Result<syn::File, SpecError> {
    syn::parse2(tokens).map_err(|e| {
        SpecError::new(
            "build/codegen.rs",
            "",
            format!("progenitor's output is not valid Rust: {e}"),
        )
    })
}

/// typify leaves a field undocumented when its type is a nested object or an id, and enum
/// variants always: every public item gets at least GeWe's wire name.
fn document(items: &mut [syn::Item]) {
    for item in items {
        match item {
            syn::Item::Mod(m) => {
                if let Some((_, items)) = m.content.as_mut() {
                    document(items);
                }
            }
            syn::Item::Struct(s) => {
                for field in s.fields.iter_mut() {
                    if let Some(ident) = &field.ident {
                        let name = wire_name(&field.attrs).unwrap_or_else(|| ident.to_string());
                        add_doc(&mut field.attrs, &format!(" GeWe's `{name}`."));
                    }
                }
            }
            syn::Item::Enum(e) => {
                for v in e.variants.iter_mut() {
                    let name = wire_name(&v.attrs).unwrap_or_else(|| v.ident.to_string());
                    add_doc(&mut v.attrs, &format!(" `{name}`."));
                }
            }
            _ => {}
        }
    }
}

fn add_doc(attrs: &mut Vec<syn::Attribute>, text: &str) {
    if !attrs.iter().any(|a| a.path().is_ident("doc")) {
        attrs.insert(0, syn::parse_quote!(#[doc = #text]));
    }
}

/// The `rename = "…"` of a `#[serde(...)]` attribute.
fn wire_name(attrs: &[syn::Attribute]) -> Option<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .find_map(|a| {
            let text = quote!(#a).to_string();
            let start = text.find("rename = \"")? + "rename = \"".len();
            let end = text[start..].find('"')?;
            Some(text[start..start + end].to_string())
        })
}

/// The path → call table, as Markdown, grouped by module: each operation's short form and its
/// struct method.
pub fn method_map(ops: &[OpInfo], plans: &[crate::calls::Plan]) -> String {
    let mut by_module: BTreeMap<&str, Vec<&OpInfo>> = BTreeMap::new();
    for op in ops {
        by_module.entry(op.module.as_str()).or_default().push(op);
    }
    let mut out = String::new();
    for (module, ops) in by_module {
        out.push_str(&format!(
            "\n## {module}\n\n| path | call | struct method | summary |\n|---|---|---|---|\n"
        ));
        for op in ops {
            let dep = if op.deprecated { " (deprecated)" } else { "" };
            let calls = plans
                .iter()
                .find(|p| p.op.id == op.id)
                .map(crate::calls::call_texts)
                .unwrap_or_default()
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join("<br>");
            out.push_str(&format!(
                "| `{}` | {} | `Client::{}` | {}{} |\n",
                op.path, calls, op.id, op.summary, dep
            ));
        }
    }
    out
}
