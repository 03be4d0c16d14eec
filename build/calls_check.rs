//! The generated test of the short form (`tests/calls.rs` and the contract tests include it):
//! for every operation, code that decodes a documented request into the request struct, builds
//! the operation's call from that struct's fields (required ones as arguments, the optional ones
//! it has through their setters), checks that the call's request is the struct, and sends it.
//! So every constructor and setter is compiled, and called, once.

use crate::calls::{OnClient, Plan};
use proc_macro2::TokenStream;
use quote::quote;

/// The Rust of the check.
pub fn check(plans: &[Plan]) -> TokenStream {
    let device: Vec<TokenStream> = plans
        .iter()
        .filter(|p| p.app_id.is_some())
        .map(|p| arm(p, false))
        .collect();
    let client: Vec<TokenStream> = plans
        .iter()
        .filter(|p| p.on_client != OnClient::No)
        .map(|p| arm(p, true))
        .collect();
    let device_paths = plans
        .iter()
        .filter(|p| p.app_id.is_some())
        .map(|p| &p.op.path);
    let client_paths = plans
        .iter()
        .filter(|p| p.on_client != OnClient::No)
        .map(|p| &p.op.path);
    let defaults = plans.iter().filter(|p| p.only_app_id_required).map(|p| {
        let path = &p.op.path;
        let request = &p.request;
        quote!((#path, serde_json::to_value(gewe::types::#request::default()).expect("serializes")))
    });
    quote! {
        /// The paths with a call on a device.
        pub const DEVICE_PATHS: &[&str] = &[#(#device_paths),*];

        /// The paths with a call on the client.
        pub const CLIENT_PATHS: &[&str] = &[#(#client_paths),*];

        /// Sends `body`, a request of the operation at `path`, through the operation's call on
        /// the device of the body's `appId`; `None` when the operation has no device call.
        ///
        /// # Panics
        /// When the body does not decode, or the call's request is not the decoded body.
        #[allow(deprecated, clippy::redundant_clone, clippy::clone_on_copy)]
        pub async fn through_device(
            client: &gewe::Client,
            path: &str,
            body: serde_json::Value,
        ) -> Option<gewe::Result<()>> {
            Some(match path {
                #(#device)*
                _ => return None,
            })
        }

        /// Like [`through_device`], through the operation's call on the client.
        #[allow(deprecated, clippy::redundant_clone, clippy::clone_on_copy)]
        pub async fn through_client(
            client: &gewe::Client,
            path: &str,
            body: serde_json::Value,
        ) -> Option<gewe::Result<()>> {
            Some(match path {
                #(#client)*
                _ => return None,
            })
        }

        /// `Default::default()` of every request struct that derives it, by path, as JSON.
        pub fn default_requests() -> Vec<(&'static str, serde_json::Value)> {
            vec![#(#defaults),*]
        }
    }
}

/// One operation: decode, build the call, compare, send.
fn arm(plan: &Plan, on_client: bool) -> TokenStream {
    let path = &plan.op.path;
    let request = &plan.request;
    let method = &plan.method;
    let accessor = crate::calls::accessor(&plan.op.module, on_client);
    let handle = if on_client {
        quote!(client.#accessor())
    } else {
        let app_id = plan.app_id.as_ref().expect("a device call has an appId");
        let field = &app_id.ident;
        let app_id = match crate::calls::is_option(&app_id.ty) {
            true => quote!(r.#field.clone().unwrap_or_default()),
            false => quote!(r.#field.clone()),
        };
        quote!(client.device(#app_id).#accessor())
    };
    let args = if plan.takes_args() {
        let args = plan.args_type();
        let fields = plan.required.iter().map(|f| {
            let ident = &f.ident;
            let string = crate::calls::is_string(&f.ty);
            let value = match (crate::calls::is_option(&f.ty), string) {
                (true, true) => quote!(r.#ident.as_deref().expect("required")),
                (true, false) => quote!(r.#ident.clone().expect("required")),
                (false, true) => quote!(&r.#ident),
                (false, false) => quote!(r.#ident.clone()),
            };
            quote!(#ident: #value)
        });
        vec![quote!(gewe::types::#args { #(#fields),* })]
    } else {
        plan.required
            .iter()
            .map(|f| {
                let ident = &f.ident;
                match crate::calls::is_option(&f.ty) {
                    true => quote!(r.#ident.clone().expect("required")),
                    false => quote!(r.#ident.clone()),
                }
            })
            .collect()
    };
    let setters = plan.optional.iter().map(|f| {
        let ident = &f.ident;
        match crate::calls::is_option(&f.ty) {
            true => quote! {
                let call = match r.#ident.clone() {
                    Some(v) => call.#ident(v),
                    None => call,
                };
            },
            false => quote!(let call = call.#ident(r.#ident.clone());),
        }
    });
    quote! {
        #path => {
            let r: gewe::types::#request = serde_json::from_value(body).expect(path);
            let call = #handle.#method(#(#args),*);
            #(#setters)*
            assert_eq!(call.request(), &r, "{path}: the call's request is the decoded body");
            call.await.map(drop)
        }
    }
}
