//! The MCP tools, one per operation of the table: name, description, input schema, hints.

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::Value;
use std::sync::Arc;

/// The request fields `gewe mcp` binds itself, which the model never sees: the device, and the
/// token a request such as `/login/setCallback` carries.
pub const BOUND_FIELDS: [&str; 2] = ["appId", "token"];

/// One operation as a tool.
pub struct OperationTool {
    pub op: &'static gewe::Operation,
    pub tool: Tool,
}

/// Every operation's tool, in the table's order.
pub fn all() -> Vec<OperationTool> {
    gewe::operations()
        .iter()
        .map(|op| OperationTool { op, tool: tool(op) })
        .collect()
}

fn tool(op: &'static gewe::Operation) -> Tool {
    let tier = op.tier();
    let description = format!(
        "{}\n\nGeWe operation `{} {}`; tier `{tier}`.",
        op.docs(),
        op.method,
        op.path
    );
    let annotations = ToolAnnotations::with_title(op.summary)
        .read_only(tier == gewe::Tier::Read)
        .destructive(tier == gewe::Tier::Destructive)
        // Every GeWe call reaches WeChat, outside this process.
        .open_world(true);
    Tool::new(op.id, description, Arc::new(input_schema(op))).annotate(annotations)
}

/// The request's JSON schema without the bound fields; `{"type": "object"}` for an operation
/// that takes no body.
fn input_schema(op: &gewe::Operation) -> JsonObject {
    let mut schema = op
        .request_schema()
        .and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default();
    schema.remove("$schema");
    schema.insert("type".into(), "object".into());
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for field in BOUND_FIELDS {
            properties.remove(field);
        }
    }
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        required.retain(|f| !BOUND_FIELDS.iter().any(|b| f == b));
    }
    schema
}
