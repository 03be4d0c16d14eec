//! From the files in `openapi/` to the merged document progenitor reads:
//! discover → load → overlay → normalize → merge. Tests run the same steps on their own copies.

use crate::overlay;
use crate::spec::{self, SpecError};
use serde_json::Value;
use std::path::Path;

/// What the spec half of the build produces.
pub struct Spec {
    /// Exports (with the overlays) and our schemas, normalized and merged: the generator's input.
    pub merged: Value,
    /// The exports with the overlays applied, merged but not normalized: what Prism serves.
    pub raw: Value,
    /// Documentation errors the normalization worked around.
    pub warnings: Vec<SpecError>,
}

/// Runs every step on `root/openapi`. File names in messages are relative to `root`.
pub fn spec(root: &Path) -> Result<Spec, SpecError> {
    let dir = root.join("openapi");
    let layout = spec::discover(&dir).map_err(|e| {
        SpecError::new(
            "openapi/",
            "",
            format!("cannot list {}: {e}", dir.display()),
        )
    })?;
    let load = |files: &[std::path::PathBuf]| {
        files
            .iter()
            .map(|f| spec::load(root, f))
            .collect::<Result<Vec<_>, _>>()
    };
    let mut exports = load(&layout.exports)?;
    let ours = load(&layout.ours)?;
    let overlays = load(&layout.overlays)?
        .iter()
        .map(|o| overlay::parse(&o.file, &o.doc))
        .collect::<Result<Vec<_>, _>>()?;
    overlay::apply(&overlays, &mut exports)?;
    let normalized = exports
        .iter()
        .chain(&ours)
        .map(spec::normalize)
        .collect::<Result<Vec<_>, _>>()?;
    let warnings = normalized
        .iter()
        .flat_map(|n| n.warnings.iter().cloned())
        .collect();
    Ok(Spec {
        warnings,
        merged: spec::merge(normalized)?,
        raw: spec::merge_raw(&exports)?,
    })
}
