//! The short form of every operation: `device.message().post_text(to_wxid, content)`.
//!
//! From the merged spec (which fields are required, in the page's order) and progenitor's
//! request structs (each field's Rust name and type), for every operation:
//! - a constructor on its docs module's handle, on `Device` (it fills in the `appId`) and, for an
//!   operation that needs no device, on `Client`; required fields positional, or as one struct of
//!   named fields when there are more than [`MAX_POSITIONAL`];
//! - a setter per optional field, on `Call<TheRequest>`;
//! - the `Request` impl through which `.await` sends the call with the struct method;
//! - `Sent` for every send's `data` that carries what revoking the message takes.
//!
//! Nothing here names an operation: every rule reads the spec.

use crate::codegen::OpInfo;
use crate::docs;
use crate::spec::{self, SpecError};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The most required fields (besides `appId`) taken as positional arguments. An operation with
/// more takes them as one struct of named fields: five strings in a row are too easy to swap.
pub const MAX_POSITIONAL: usize = 4;

/// Set by an overlay on a request's `appId` when the page gives an empty `appId` a meaning (a
/// first login creates a device). The value says what it means. The operation is then also
/// called from `Client`, sending the `appId` empty.
pub const EMPTY_MEANS: &str = "x-gewe-empty-means";

/// The field every device call fills in: GeWe's device id (设备ID).
const APP_ID: &str = "appId";

/// The fields of a sent message's `data` that revoking it takes: `/message/revokeMsg`'s
/// required fields besides `appId`, which `Sent::revoke` fills in.
const SENT_FIELDS: [&str; 4] = ["toWxid", "msgId", "newMsgId", "createTime"];

/// Methods of every `Call`, which no setter may shadow.
const CALL_METHODS: &[&str] = &["request", "into_request"];

/// One field of a request struct, as progenitor wrote it.
#[derive(Clone)]
pub struct Field {
    pub wire: String,
    pub ident: Ident,
    pub ty: syn::Type,
    /// The field's doc comment, which is GeWe's description of it.
    pub doc: Vec<String>,
    /// `#[serde(default = "…")]`: the function giving its value when it is not set.
    pub default_fn: Option<syn::ExprPath>,
}

/// Where an operation is called from, besides a device.
#[derive(Clone, PartialEq)]
pub enum OnClient {
    /// Not from `Client`: the call needs a device.
    No,
    /// The request has no `appId`.
    NoAppId,
    /// The request's `appId` is sent empty, which means this.
    EmptyAppId(String),
}

/// One operation's short form.
pub struct Plan<'a> {
    pub op: &'a OpInfo,
    /// Its place in the dispatch table.
    pub index: usize,
    pub request: Ident,
    /// The method's name in its module's handle.
    pub method: Ident,
    /// Required fields besides `appId`, in the page's order.
    pub required: Vec<Field>,
    /// Optional fields, by name.
    pub optional: Vec<Field>,
    /// The `appId` field, when the request has one: the call is then on the device.
    pub app_id: Option<Field>,
    /// Whether `appId` is the request's only required field.
    pub only_app_id_required: bool,
    pub on_client: OnClient,
}

impl Plan<'_> {
    /// Whether the required fields come as one struct of named fields.
    pub fn takes_args(&self) -> bool {
        self.required.len() > MAX_POSITIONAL
    }

    /// The name of that struct: `MessagePostLinkArgs`.
    pub fn args_type(&self) -> Ident {
        format_ident!("{}Args", spec::pascal_case(&self.op.id))
    }
}

/// Plans the short form of every operation that has a request struct.
pub fn plan<'a>(
    ops: &'a [OpInfo],
    merged: &Value,
    client: &syn::File,
) -> Result<Vec<Plan<'a>>, SpecError> {
    let structs = struct_fields(&client.items);
    let modules: BTreeSet<&str> = ops.iter().map(|o| o.module.as_str()).collect();
    let mut plans = Vec::new();
    let mut names: BTreeMap<(String, String), String> = BTreeMap::new();
    for (index, op) in ops.iter().enumerate() {
        let Some(request) = &op.request else { continue };
        let at = |message: String| {
            SpecError::new(
                &op.file,
                &format!("/paths/{}", spec::escape(&op.path)),
                message,
            )
        };
        let schema = merged
            .pointer(&format!("/components/schemas/{}", spec::escape(request)))
            .unwrap_or(&Value::Null);
        let Some(fields) = structs.get(request) else {
            return Err(at(format!("progenitor generated no struct `{request}`")));
        };
        let by_wire = |wire: &str| fields.iter().find(|f| f.wire == wire).cloned();
        let properties: Vec<&str> = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let field = |wire: &str| {
            by_wire(wire).ok_or_else(|| at(format!("`{request}` has no field for `{wire}`")))
        };
        let mut plan = Plan {
            op,
            index,
            request: format_ident!("{}", request),
            method: ident(&method_name(&op.path, &modules)),
            required: Vec::new(),
            optional: Vec::new(),
            app_id: None,
            only_app_id_required: required == [APP_ID],
            on_client: OnClient::No,
        };
        for wire in &properties {
            let f = field(wire)?;
            if *wire == APP_ID {
                plan.app_id = Some(f);
            } else if required.contains(wire) {
                plan.required.push(f);
            } else {
                if CALL_METHODS.contains(&f.ident.to_string().as_str()) {
                    return Err(at(format!(
                        "the setter of `{wire}` would shadow `Call::{}`",
                        f.ident
                    )));
                }
                plan.optional.push(f);
            }
        }
        // required, not properties: its order is the page's (build/spec/order.rs).
        plan.required
            .sort_by_key(|f| required.iter().position(|r| *r == f.wire));
        plan.on_client = match schema.pointer(&format!("/properties/{APP_ID}")) {
            None => OnClient::NoAppId,
            Some(app_id) => match app_id.get(EMPTY_MEANS).and_then(Value::as_str) {
                Some(meaning) => OnClient::EmptyAppId(docs::clean(meaning)),
                None => OnClient::No,
            },
        };
        for side in ["device", "client"] {
            let on_side = match side {
                "device" => plan.app_id.is_some(),
                _ => plan.on_client != OnClient::No,
            };
            if !on_side {
                continue;
            }
            let key = (format!("{side}.{}", op.module), plan.method.to_string());
            if let Some(other) = names.insert(key, op.path.clone()) {
                return Err(at(format!(
                    "its call `{}().{}` in module `{}` is also the call of {other}",
                    op.module, plan.method, op.module
                )));
            }
        }
        plans.push(plan);
    }
    Ok(plans)
}

/// The method name in its module's handle: the path, without its first segment when that is
/// the name of a docs module. GeWe files some pages under another module than their path
/// (`/login/logout` is in `account`); a segment that is no module (`/im/…`) is kept.
pub fn method_name(path: &str, modules: &BTreeSet<&str>) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let rest = match segments.split_first() {
        Some((first, rest)) if !rest.is_empty() && modules.contains(first) => rest,
        _ => &segments[..],
    };
    rest.iter()
        .map(|s| spec::snake_case(s))
        .collect::<Vec<_>>()
        .join("_")
}

/// An identifier, raw when it is a keyword.
fn ident(name: &str) -> Ident {
    syn::parse_str::<Ident>(name).unwrap_or_else(|_| Ident::new_raw(name, Span::call_site()))
}

/// The fields of every struct progenitor generated, by struct name, in struct order.
pub fn struct_fields(items: &[syn::Item]) -> BTreeMap<String, Vec<Field>> {
    let mut out = BTreeMap::new();
    for item in items {
        match item {
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    out.extend(struct_fields(items));
                }
            }
            syn::Item::Struct(s) => {
                let fields = s
                    .fields
                    .iter()
                    .filter_map(|f| {
                        let ident = f.ident.clone()?;
                        let (rename, default_fn) = serde_field(&f.attrs);
                        Some(Field {
                            wire: rename.unwrap_or_else(|| ident.to_string()),
                            ident,
                            ty: f.ty.clone(),
                            doc: doc_lines(&f.attrs),
                            default_fn,
                        })
                    })
                    .collect();
                out.insert(s.ident.to_string(), fields);
            }
            _ => {}
        }
    }
    out
}

/// A field's `#[serde(rename = "…")]` and `#[serde(default = "…")]`.
fn serde_field(attrs: &[syn::Attribute]) -> (Option<String>, Option<syn::ExprPath>) {
    let (mut rename, mut default_fn) = (None, None);
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                rename = Some(meta.value()?.parse::<syn::LitStr>()?.value());
            } else if meta.path.is_ident("default") && meta.input.peek(syn::Token![=]) {
                let path = meta.value()?.parse::<syn::LitStr>()?;
                default_fn = path.parse::<syn::ExprPath>().ok();
            } else if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            }
            Ok(())
        });
    }
    (rename, default_fn)
}

fn doc_lines(attrs: &[syn::Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// `T` of `Wrapper<T>` when `ty` is `…::Wrapper<T>`.
fn inner<'t>(ty: &'t syn::Type, wrapper: &str) -> Option<&'t syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    match &last.arguments {
        syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    }
}

fn ends_with(ty: &syn::Type, name: &str) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == name && s.arguments.is_empty()))
}

/// What an argument for a value of type `ty` takes, and how it becomes the value: strings
/// `impl Into<String>`, ids `impl Into<Id>`, lists any iterator of such, others (enums,
/// numbers, nested structs) their own type.
fn argument(ty: &syn::Type, value: &Ident) -> (TokenStream, TokenStream) {
    if ends_with(ty, "String") || ends_with(ty, "Id") {
        (quote!(impl Into<#ty>), quote!(#value.into()))
    } else if let Some(item) = inner(ty, "Vec") {
        (
            quote!(impl IntoIterator<Item = impl Into<#item>>),
            quote!(#value.into_iter().map(Into::into).collect()),
        )
    } else {
        (ty.to_token_stream(), value.to_token_stream())
    }
}

/// A field as an argument: an `Option` field takes its inner type and is sent as `Some`. A
/// required field is `Option` only because apifox marked it nullable, so it is always sent; an
/// optional one is set by its setter.
fn field_argument(f: &Field) -> (TokenStream, TokenStream) {
    match inner(&f.ty, "Option") {
        Some(t) => {
            let (param, value) = argument(t, &f.ident);
            (param, quote!(Some(#value)))
        }
        None => argument(&f.ty, &f.ident),
    }
}

/// A field of an `…Args` struct: strings borrowed, the rest owned.
fn args_field(f: &Field) -> (TokenStream, TokenStream) {
    let ty = inner(&f.ty, "Option").unwrap_or(&f.ty);
    let ident = &f.ident;
    let value = if ends_with(ty, "String") {
        (quote!(&'a str), quote!(#ident.to_owned()))
    } else {
        (ty.to_token_stream(), quote!(#ident))
    };
    match inner(&f.ty, "Option") {
        Some(_) => {
            let v = value.1;
            (value.0, quote!(Some(#v)))
        }
        None => value,
    }
}

/// The value of an optional field nobody set: what deserializing a body without it gives.
fn unset(f: &Field) -> TokenStream {
    match (&f.default_fn, inner(&f.ty, "Option")) {
        (Some(path), _) => quote!(#path()),
        (None, Some(_)) => quote!(None),
        (None, None) => quote!(Default::default()),
    }
}

fn docs_of(lines: &[String]) -> TokenStream {
    quote!(#(#[doc = #lines])*)
}

/// The first line of a field's doc, or its wire name.
fn summary(f: &Field) -> String {
    f.doc
        .iter()
        .flat_map(|d| d.lines())
        .map(|l| l.trim().trim_start_matches("- ").trim())
        .find(|l| !l.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("GeWe's `{}`.", f.wire))
}

/// The accessor of a module's handle: `device.message()`, and on the client, whose `login(..)`
/// runs the whole QR login, `client.login_calls()`.
pub fn accessor(module: &str, on_client: bool) -> Ident {
    if on_client {
        format_ident!("{}_calls", module)
    } else {
        ident(module)
    }
}

/// How the call reads from `receiver` (`device` or `client`), with its required arguments:
/// `device.message().post_text(to_wxid, content)`.
pub fn call_text(plan: &Plan, receiver: &str) -> String {
    let module = &plan.op.module;
    let accessor = accessor(module, receiver == "client");
    let args = if plan.takes_args() {
        format!("{} {{ .. }}", plan.args_type())
    } else {
        plan.required
            .iter()
            .map(|f| f.ident.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("{receiver}.{accessor}().{}({args})", plan.method)
}

/// Every way to call the operation: from a device, from the client.
pub fn call_texts(plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    if plan.app_id.is_some() {
        out.push(call_text(plan, "device"));
    }
    if plan.on_client != OnClient::No {
        out.push(call_text(plan, "client"));
    }
    out
}

/// The doc comment of a call's constructor: the operation's docs, its arguments, and the
/// struct form.
fn call_doc(plan: &Plan, receiver: &str) -> Vec<String> {
    let op = plan.op;
    let mut lines = crate::codegen::method_doc(op);
    if let OnClient::EmptyAppId(meaning) = &plan.on_client {
        if receiver == "client" {
            lines.push(String::new());
            lines.push(format!(" Sends the `appId` empty: {meaning}"));
        }
    }
    lines.push(String::new());
    // Not a doctest: one generated test compiles and calls every method instead.
    lines.push(" ```text".into());
    lines.push(format!(" {}.await?", call_text(plan, receiver)));
    lines.push(" ```".into());
    if !plan.takes_args() && !plan.required.is_empty() {
        lines.push(String::new());
        for f in &plan.required {
            lines.push(format!(" - `{}`: {}", f.ident, summary(f)));
        }
    }
    if !plan.optional.is_empty() {
        lines.push(String::new());
        let setters: Vec<String> = plan
            .optional
            .iter()
            .map(|f| format!("`{}`", f.ident))
            .collect();
        lines.push(format!(
            " Optional fields are setters on the call: {}.",
            setters.join(", ")
        ));
    }
    lines.push(String::new());
    lines.push(format!(
        " As data: [`Client::{}`](crate::Client::{}) with [`{}`](crate::types::{}).",
        op.id, op.id, plan.request, plan.request
    ));
    lines
}

/// The Rust of the short form: the handles, the constructors, the setters, the `Request` and
/// `Sent` impls, and the `…Args` structs.
pub fn calls(plans: &[Plan], merged: &Value, client: &syn::File) -> TokenStream {
    let mut device_modules: BTreeMap<&str, (&str, Vec<TokenStream>)> = BTreeMap::new();
    let mut client_modules: BTreeMap<&str, (&str, Vec<TokenStream>)> = BTreeMap::new();
    let mut items = Vec::new();
    let mut args = Vec::new();
    for plan in plans {
        let op = plan.op;
        let request = &plan.request;
        let method = &plan.method;
        let deprecated = op
            .deprecated
            .then(|| quote!(#[deprecated(note = "GeWe marks this endpoint deprecated")]));
        let (params, prelude, values): (Vec<TokenStream>, TokenStream, Vec<TokenStream>) =
            if plan.takes_args() {
                let args = plan.args_type();
                let args = quote!(crate::types::#args);
                let fields: Vec<&Ident> = plan.required.iter().map(|f| &f.ident).collect();
                let values = plan.required.iter().map(|f| args_field(f).1).collect();
                let lifetime = args_borrow(plan).then(|| quote!(<'_>));
                (
                    vec![quote!(args: #args #lifetime)],
                    quote!(let #args { #(#fields),* } = args;),
                    values,
                )
            } else {
                let (params, values) = plan
                    .required
                    .iter()
                    .map(|f| {
                        let (ty, value) = field_argument(f);
                        let ident = &f.ident;
                        (quote!(#ident: #ty), value)
                    })
                    .unzip();
                (params, quote!(), values)
            };
        let required_idents: Vec<&Ident> = plan.required.iter().map(|f| &f.ident).collect();
        let optional_idents: Vec<&Ident> = plan.optional.iter().map(|f| &f.ident).collect();
        let unset: Vec<TokenStream> = plan.optional.iter().map(unset).collect();
        let literal = |app_id: TokenStream| {
            let app_id = plan.app_id.as_ref().map(|f| {
                let ident = &f.ident;
                let value = match inner(&f.ty, "Option") {
                    Some(_) => quote!(Some(#app_id)),
                    None => app_id,
                };
                quote!(#ident: #value,)
            });
            quote! {
                types::#request {
                    #app_id
                    #(#required_idents: #values,)*
                    #(#optional_idents: #unset,)*
                }
            }
        };
        // The same constructor on both sides; only the appId it fills in and how it makes the
        // call differ.
        let constructor =
            |receiver: &str, app_id: TokenStream, call: &dyn Fn(TokenStream) -> TokenStream| {
                let doc = docs_of(&call_doc(plan, receiver));
                let call = call(literal(app_id));
                quote! {
                    #doc
                    #deprecated
                    pub fn #method(&self, #(#params),*) -> crate::Call<types::#request> {
                        #prelude
                        #call
                    }
                }
            };
        if plan.app_id.is_some() {
            let app_id = quote!(self.0.app_id().to_owned());
            add(
                &mut device_modules,
                op,
                constructor("device", app_id, &|body| quote!(self.0.call(#body))),
            );
        }
        if plan.on_client != OnClient::No {
            let app_id = quote!(String::new());
            add(
                &mut client_modules,
                op,
                constructor(
                    "client",
                    app_id,
                    &|body| quote!(crate::Call::new(self.0.clone(), #body)),
                ),
            );
        }
        if plan.takes_args() {
            args.push(args_struct(plan));
        }
        items.push(setters(plan));
        items.push(request_impl(plan));
    }
    items.extend(sent_impls(merged, &struct_fields(&client.items)));
    let device_handles = handles(&device_modules, "Device", "");
    let client_handles = handles(&client_modules, "Client", "Client");
    quote! {
        #device_handles
        #client_handles
        #(#items)*

        /// The required fields of the operations that take more than four, by name.
        pub mod args {
            #[allow(unused_imports)]
            use crate::generated::types::{self, *};

            #(#args)*
        }
    }
}

/// Adds a constructor to the handle of its operation's module.
fn add<'a>(
    modules: &mut BTreeMap<&'a str, (&'a str, Vec<TokenStream>)>,
    op: &'a OpInfo,
    constructor: TokenStream,
) {
    modules
        .entry(op.module.as_str())
        .or_insert_with(|| (op.folder.as_str(), Vec::new()))
        .1
        .push(constructor);
}

/// A handle type per module on `on`, its accessor, and its calls.
fn handles(
    modules: &BTreeMap<&str, (&str, Vec<TokenStream>)>,
    on: &str,
    prefix: &str,
) -> TokenStream {
    let on_ty = format_ident!("{}", on);
    let mut accessors = Vec::new();
    let mut blocks = Vec::new();
    for (module, (folder, calls)) in modules {
        let ty = format_ident!("{}{}Calls", prefix, spec::pascal_case(module));
        let accessor = accessor(module, on == "Client");
        let place = if folder.is_empty() {
            format!("`{module}`")
        } else {
            format!("`{module}` ({folder})")
        };
        let (ty_doc, accessor_doc) = if on == "Client" {
            (
                format!(" The calls of the {place} module that need no device (`appId`): [`Client::{accessor}`](crate::Client::{accessor})."),
                format!(" The calls of the {place} module that need no device (`appId`). The device's own are on [`Device::{module}`](crate::Device::{module})."),
            )
        } else {
            (
                format!(" The calls of the {place} module for one device: [`Device::{accessor}`](crate::Device::{accessor})."),
                format!(" The calls of the {place} module for this device."),
            )
        };
        // The handle holds its own clone (an `Arc` or two), so it can be kept and moved.
        accessors.push(quote! {
            #[doc = #accessor_doc]
            pub fn #accessor(&self) -> #ty {
                #ty(self.clone())
            }
        });
        blocks.push(quote! {
            #[doc = #ty_doc]
            #[derive(Clone, Debug)]
            pub struct #ty(crate::#on_ty);

            impl #ty {
                #(#calls)*
            }
        });
    }
    if accessors.is_empty() {
        return quote!();
    }
    quote! {
        impl crate::#on_ty {
            #(#accessors)*
        }
        #(#blocks)*
    }
}

/// Whether an operation's `…Args` struct borrows, and so has a lifetime: it does when a field
/// is a string, which it takes as `&str`.
fn args_borrow(plan: &Plan) -> bool {
    plan.required
        .iter()
        .any(|f| ends_with(inner(&f.ty, "Option").unwrap_or(&f.ty), "String"))
}

/// The struct of named fields an operation with many required fields takes.
fn args_struct(plan: &Plan) -> TokenStream {
    let args = plan.args_type();
    let fields = plan.required.iter().map(|f| {
        let ident = &f.ident;
        let ty = args_field(f).0;
        let doc = summary(f);
        quote!(#[doc = #doc] pub #ident: #ty,)
    });
    let lifetime = args_borrow(plan).then(|| quote!(<'a>));
    let doc = format!(
        " The required fields of `{}` ([`{}`](crate::types::{})), by name: {} of them, too many to pass in a row without swapping two. Optional fields are setters on the call.",
        plan.op.path,
        plan.request,
        plan.request,
        plan.required.len()
    );
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug)]
        pub struct #args #lifetime {
            #(#fields)*
        }
    }
}

/// One setter per optional field, on `Call<Request>`.
fn setters(plan: &Plan) -> TokenStream {
    if plan.optional.is_empty() {
        return quote!();
    }
    let request = &plan.request;
    let setters = plan.optional.iter().map(|f| {
        let ident = &f.ident;
        let (param, value) = field_argument(f);
        let mut doc = f.doc.clone();
        if doc.is_empty() {
            doc.push(format!(" GeWe's `{}`.", f.wire));
        }
        let doc = docs_of(&doc);
        quote! {
            #doc
            pub fn #ident(mut self, #ident: #param) -> Self {
                self.request.#ident = #value;
                self
            }
        }
    });
    let doc = format!(" Optional fields of `{}`.", plan.op.path);
    quote! {
        #[doc = #doc]
        impl crate::Call<types::#request> {
            #(#setters)*
        }
    }
}

/// How `.await` sends the request: with its struct method.
fn request_impl(plan: &Plan) -> TokenStream {
    let op = plan.op;
    let request = &plan.request;
    let name = format_ident!("{}", op.id);
    let index = plan.index;
    let data = match &op.data {
        Some(d) => {
            let d = format_ident!("{}", d);
            quote!(types::#d)
        }
        None => quote!(()),
    };
    let allow = op.deprecated.then(|| quote!(#[allow(deprecated)]));
    quote! {
        impl crate::calls::sealed::Sealed for types::#request {}

        #allow
        impl crate::calls::Request for types::#request {
            type Data = #data;

            fn operation() -> &'static crate::Operation {
                &super::wrapper::OPERATIONS[#index]
            }

            fn send<'a>(
                &'a self,
                client: &'a crate::Client,
            ) -> impl std::future::Future<Output = crate::Result<Self::Data>> + Send + 'a {
                client.#name(self)
            }
        }
    }
}

/// `Sent` for every `data` that carries the fields revoking a sent message takes.
fn sent_impls(merged: &Value, structs: &BTreeMap<String, Vec<Field>>) -> Vec<TokenStream> {
    let Some(schemas) = merged
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    schemas
        .iter()
        .filter(|(name, schema)| {
            name.ends_with("Data")
                && SENT_FIELDS
                    .iter()
                    .all(|f| schema.pointer(&format!("/properties/{f}")).is_some())
        })
        .filter_map(|(name, _)| {
            let ty = format_ident!("{}", name);
            let fields = structs.get(name)?;
            let fields = SENT_FIELDS
                .iter()
                .map(|w| fields.iter().find(|f| f.wire == *w).map(|f| &f.ident))
                .collect::<Option<Vec<_>>>()?;
            Some(quote! {
                impl crate::sent::sealed::Sealed for types::#ty {}

                impl crate::Sent for types::#ty {
                    fn parts(&self) -> crate::sent::Parts<'_> {
                        crate::sent::Parts::new(#(&self.#fields),*)
                    }
                }
            })
        })
        .collect()
}

/// Names of the request structs whose one required field is `appId`: only they derive
/// `Default`, so that no other required field can go out empty by default.
pub fn default_requests(plans: &[Plan]) -> BTreeSet<String> {
    plans
        .iter()
        .filter(|p| p.only_app_id_required)
        .map(|p| p.request.to_string())
        .collect()
}

/// Whether a field's type is `Option<…>`.
pub fn is_option(ty: &syn::Type) -> bool {
    inner(ty, "Option").is_some()
}

/// Whether a field holds a string, optional or not.
pub fn is_string(ty: &syn::Type) -> bool {
    ends_with(inner(ty, "Option").unwrap_or(ty), "String")
}
