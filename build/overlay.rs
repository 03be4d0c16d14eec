//! Our refinements of GeWe's exports, as OpenAPI Overlay 1.0 documents in `openapi/overlays/`.
//!
//! An overlay is an ordered list of actions, each an RFC 9535 JSONPath `target` with an `update`
//! (merged into each node it selects) or a `remove`. The targets are evaluated on every export,
//! which together are one document: each path lives in one export, so a target that names a path
//! reaches one file.
//!
//! An action must select exactly one node, or as many as it declares with `x-gewe-matches`.
//! A re-export that renamed or moved a field then fails the build here, naming the overlay, the
//! action and its target, instead of silently losing the enum the action added.

use crate::spec::{Source, SpecError};
use serde_json::{Map, Value};
use serde_json_path::{JsonPath, PathElement};

/// The action extension that declares how many nodes the target selects, when not one.
pub const MATCHES_KEY: &str = "x-gewe-matches";

/// One overlay document.
pub struct Overlay {
    /// Path relative to the crate root, for messages.
    pub file: String,
    pub actions: Vec<Action>,
}

/// One action of an overlay.
pub struct Action {
    /// The action's place in its overlay, as a JSON pointer (`/actions/3`).
    pub pointer: String,
    /// The JSONPath as written.
    pub target: String,
    path: JsonPath,
    pub change: Change,
    /// How many nodes the target must select.
    pub matches: usize,
}

/// What an action does to each node its target selects.
pub enum Change {
    /// Merged into an object (keys recursively, other values replaced) or appended to an array.
    Update(Value),
    Remove,
}

type Result<T, E = SpecError> = std::result::Result<T, E>;

/// Reads one overlay document (already parsed from YAML) and checks its shape.
pub fn parse(file: &str, doc: &Value) -> Result<Overlay> {
    let err = |ptr: &str, msg: &str| SpecError::new(file, ptr, msg);
    let version = doc.get("overlay").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("1.0.") {
        return Err(err(
            "/overlay",
            "expected `overlay: 1.0.0` (OpenAPI Overlay Specification 1.0)",
        ));
    }
    for key in ["title", "version"] {
        if doc
            .pointer(&format!("/info/{key}"))
            .and_then(Value::as_str)
            .is_none()
        {
            return Err(err(
                &format!("/info/{key}"),
                "an overlay's info needs a title and a version",
            ));
        }
    }
    let Some(items) = doc
        .get("actions")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        return Err(err(
            "/actions",
            "an overlay needs a non-empty list of actions",
        ));
    };
    let actions = items
        .iter()
        .enumerate()
        .map(|(i, a)| action(file, &format!("/actions/{i}"), a))
        .collect::<Result<_>>()?;
    Ok(Overlay {
        file: file.to_string(),
        actions,
    })
}

fn action(file: &str, pointer: &str, a: &Value) -> Result<Action> {
    let err = |msg: String| SpecError::new(file, pointer, msg);
    let map = a
        .as_object()
        .ok_or_else(|| err("an action must be a mapping".into()))?;
    if let Some(key) = map.keys().find(|k| {
        !k.starts_with("x-")
            && !matches!(k.as_str(), "target" | "description" | "update" | "remove")
    }) {
        return Err(err(format!("unknown action field `{key}`")));
    }
    let target = map
        .get("target")
        .and_then(Value::as_str)
        .ok_or_else(|| err("an action needs a `target` JSONPath".into()))?;
    let path = JsonPath::parse(target).map_err(|e| {
        err(format!(
            "target `{target}` is not an RFC 9535 JSONPath: {e}"
        ))
    })?;
    let remove = match map.get("remove") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(other) => {
            return Err(err(format!(
                "`remove` must be true or false, found {other}"
            )))
        }
    };
    let change = match (map.get("update"), remove) {
        (Some(update), false) => Change::Update(update.clone()),
        (None, true) => Change::Remove,
        (Some(_), true) => {
            return Err(err(
                "an action has an `update` or a `remove`, not both".into()
            ))
        }
        (None, false) => return Err(err("an action needs an `update` or `remove: true`".into())),
    };
    let matches = match map.get(MATCHES_KEY) {
        None => 1,
        Some(n) => n
            .as_u64()
            .filter(|n| *n > 0)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                err(format!(
                    "`{MATCHES_KEY}` must be a positive integer, found {n}"
                ))
            })?,
    };
    Ok(Action {
        pointer: pointer.to_string(),
        target: target.to_string(),
        path,
        change,
        matches,
    })
}

/// One step from a node to its child.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Key(String),
    Index(usize),
}

/// Applies every overlay, in order, to the exports.
pub fn apply(overlays: &[Overlay], exports: &mut [Source]) -> Result<()> {
    for overlay in overlays {
        for action in &overlay.actions {
            apply_action(&overlay.file, action, exports)?;
        }
    }
    Ok(())
}

fn apply_action(file: &str, action: &Action, exports: &mut [Source]) -> Result<()> {
    // Where the target lands, per export, before anything changes.
    let mut found: Vec<(usize, Vec<Step>)> = Vec::new();
    for (i, src) in exports.iter().enumerate() {
        for loc in action.path.query_located(&src.doc).locations() {
            let steps = loc
                .iter()
                .map(|e| match e {
                    PathElement::Name(n) => Step::Key(n.to_string()),
                    PathElement::Index(i) => Step::Index(*i),
                })
                .collect();
            found.push((i, steps));
        }
    }
    if found.len() != action.matches {
        let mut files: Vec<&str> = found
            .iter()
            .map(|(i, _)| exports[*i].file.as_str())
            .collect();
        files.dedup();
        let place = if files.is_empty() {
            "no node: a re-export may have renamed or moved what it names".to_string()
        } else {
            format!("{} nodes, in {}", found.len(), files.join(", "))
        };
        return Err(SpecError::new(
            file,
            &action.pointer,
            format!(
                "target `{}` selects {place}; expected {} (declare another count with `{MATCHES_KEY}`)",
                action.target, action.matches
            ),
        ));
    }
    // Removing from the last node to the first keeps the indices of earlier matches in the same
    // array valid; a node a query selects twice (`$.a[0,0]`) is changed once.
    found.sort();
    found.dedup();
    for (i, steps) in found.into_iter().rev() {
        let doc = &mut exports[i].doc;
        let fail = |msg: String| {
            SpecError::new(
                file,
                &action.pointer,
                format!("target `{}`: {msg}", action.target),
            )
        };
        match &action.change {
            Change::Update(update) => match node_mut(doc, &steps) {
                Some(Value::Object(node)) => match update {
                    Value::Object(update) => merge(node, update),
                    other => {
                        return Err(fail(format!(
                            "an object is updated with an object, not {other}"
                        )))
                    }
                },
                Some(Value::Array(node)) => node.push(update.clone()),
                _ => {
                    return Err(fail(
                        "selects a value that is neither an object nor an array".into(),
                    ))
                }
            },
            Change::Remove => {
                let Some((last, parent)) = steps.split_last() else {
                    return Err(fail("the whole document cannot be removed".into()));
                };
                match (node_mut(doc, parent), last) {
                    (Some(Value::Object(m)), Step::Key(k)) => {
                        m.remove(k);
                    }
                    (Some(Value::Array(a)), Step::Index(i)) if *i < a.len() => {
                        a.remove(*i);
                    }
                    _ => return Err(fail("its node vanished before removal".into())),
                }
            }
        }
    }
    Ok(())
}

fn node_mut<'a>(doc: &'a mut Value, steps: &[Step]) -> Option<&'a mut Value> {
    steps.iter().try_fold(doc, |v, step| match step {
        Step::Key(k) => v.get_mut(k.as_str()),
        Step::Index(i) => v.get_mut(*i),
    })
}

/// Overlay 1.0's merge: objects merge key by key, recursively; any other value replaces.
fn merge(node: &mut Map<String, Value>, update: &Map<String, Value>) {
    for (key, value) in update {
        match (node.get_mut(key), value) {
            (Some(Value::Object(existing)), Value::Object(update)) => merge(existing, update),
            _ => {
                node.insert(key.clone(), value.clone());
            }
        }
    }
}
