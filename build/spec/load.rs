//! Step 1 and 2: the files under `openapi/`, by who wrote them, and reading one of them.

use super::order::{keep_file_order, KeyOrder};
use super::{Result, Source, SpecError};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The folder of `openapi/` that holds our own schemas (the callbacks), which are not exports.
pub const OURS_DIR: &str = "ours";

/// The folder of `openapi/` that holds our refinements of the exports, as OpenAPI Overlays.
pub const OVERLAYS_DIR: &str = "overlays";

/// The spec files under `openapi/`, by who wrote them, each list in sorted order.
#[derive(Debug, Default, PartialEq)]
pub struct Layout {
    /// GeWe's apifox exports, one per endpoint, in `openapi/<module>/`.
    pub exports: Vec<PathBuf>,
    /// Our own schemas, in `openapi/ours/`.
    pub ours: Vec<PathBuf>,
    /// Our refinements of the exports, in `openapi/overlays/`, applied in this order.
    pub overlays: Vec<PathBuf>,
}

/// Step 1: every `*.yaml`, `*.yml` and `*.json` under `dir`, recursively, sorted by kind.
pub fn discover(dir: &Path) -> std::io::Result<Layout> {
    let mut layout = Layout::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                let top = path
                    .strip_prefix(dir)
                    .ok()
                    .and_then(|rel| rel.components().next())
                    .map(|c| c.as_os_str().to_string_lossy().to_string());
                match top.as_deref() {
                    Some(OURS_DIR) => layout.ours.push(path),
                    Some(OVERLAYS_DIR) => layout.overlays.push(path),
                    _ => layout.exports.push(path),
                }
            }
        }
    }
    layout.exports.sort();
    layout.ours.sort();
    layout.overlays.sort();
    Ok(layout)
}

/// Step 2: parse one file (YAML or JSON) into a JSON value.
pub fn load(root: &Path, path: &Path) -> Result<Source> {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let file = rel.to_string_lossy().replace('\\', "/");
    let text = std::fs::read_to_string(path)
        .map_err(|e| SpecError::new(&file, "", format!("cannot read: {e}")))?;
    let doc = parse(&file, &text)?;
    let parts: Vec<&str> = file.split('/').collect();
    // openapi/<module>/<file>: the folder names the module.
    let module = (parts.len() >= 3).then(|| parts[parts.len() - 2].to_string());
    Ok(Source { file, module, doc })
}

/// Parses YAML (a superset of JSON) into JSON, keeping integers exact and each schema's
/// `required` in the order of its `properties` in the file (`order.rs`).
///
/// YAML 1.2's core schema, as apifox writes it: `yes`, `on` or `0755` stay strings, as they do
/// for every YAML 1.2 reader, instead of YAML 1.1's booleans and octals.
pub fn parse(file: &str, text: &str) -> Result<Value> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    options.underscored_numbers_as_strings = true;
    options.with_snippet = false;
    let invalid = |e: serde_saphyr::Error| SpecError::new(file, "", format!("invalid YAML: {e}"));
    let mut doc: Value =
        serde_saphyr::from_str_with_options(text, options.clone()).map_err(invalid)?;
    // serde_json's map is sorted: the file's key order is read apart, and kept in `required`.
    let order: KeyOrder = serde_saphyr::from_str_with_options(text, options).map_err(invalid)?;
    keep_file_order(&mut doc, &order);
    Ok(doc)
}
