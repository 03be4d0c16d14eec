//! `gewe mcp`: the API as MCP tools on stdio, each operation one tool, gated by its tier.

use crate::exit::{Code, Failure};
use crate::settings::Flags;
use crate::tools::{self, OperationTool};
use gewe::Tier;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::Value;
use std::collections::BTreeSet;

/// Arguments of `gewe mcp`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Enable the tools of a tier besides `read` (write, send, destructive, admin); repeat it
    /// for more than one.
    #[arg(long, value_name = "TIER")]
    pub allow: Vec<Tier>,
}

/// The server: the client, the bound settings, and which tiers are on.
struct Server {
    client: gewe::Client,
    app_id: Option<String>,
    token: String,
    allowed: BTreeSet<Tier>,
    tools: Vec<OperationTool>,
    pacer: gewe::pacing::Pacer,
    limits: crate::limits::ReadLimits,
}

pub async fn run(flags: &Flags, args: Args) -> Result<(), Failure> {
    let client = flags.client()?;
    let token = flags.token()?.unwrap_or_default();
    let mut allowed: BTreeSet<Tier> = args.allow.into_iter().collect();
    allowed.insert(Tier::Read);
    let server = Server {
        client,
        app_id: flags.app_id().await?,
        token,
        allowed,
        tools: tools::all(),
        pacer: gewe::pacing::Pacer::new(gewe::pacing::PacingConfig::default()),
        limits: crate::limits::ReadLimits::default(),
    };
    let running = server.serve(rmcp::transport::stdio()).await.map_err(|e| {
        Failure::new(
            Code::Failure,
            format!("mcp: the session did not start: {e}"),
        )
    })?;
    running
        .waiting()
        .await
        .map_err(|e| Failure::new(Code::Failure, format!("mcp: the session failed: {e}")))?;
    Ok(())
}

fn refused(text: String) -> CallToolResponse {
    CallToolResult::error(vec![ContentBlock::text(text)]).into()
}

impl Server {
    fn enabled(&self, tool: &OperationTool) -> bool {
        self.allowed.contains(&tool.op.tier())
    }

    /// The body with the bound fields filled in, as `gewe call` fills them.
    fn body(
        &self,
        tool: &OperationTool,
        arguments: Option<rmcp::model::JsonObject>,
    ) -> Result<Value, String> {
        let mut body = arguments.unwrap_or_default();
        for field in tools::BOUND_FIELDS {
            if body.contains_key(field) {
                return Err(format!(
                    "`{field}` is set by the server, not by the tool's caller"
                ));
            }
        }
        let schema = tool
            .op
            .request_schema()
            .and_then(|s| serde_json::to_value(s).ok());
        let takes = |field: &str| {
            schema
                .as_ref()
                .is_some_and(|s| s.pointer(&format!("/properties/{field}")).is_some())
        };
        if takes("appId") {
            let app_id = self.app_id.clone().ok_or(
                "no device: start gewe mcp with GEWE_APP_ID (or --app-id, or a GEWE_STORE holding one)",
            )?;
            body.insert("appId".into(), Value::String(app_id));
        }
        if takes("token") {
            body.insert("token".into(), Value::String(self.token.clone()));
        }
        let body = Value::Object(body);
        if let Some(schema) = &schema {
            let violations = gewe::mock::check_schema(schema, &body);
            if !violations.is_empty() {
                return Err(format!(
                    "the arguments do not fit {}; nothing was sent: {}",
                    tool.op.path,
                    violations.join("; ")
                ));
            }
        }
        Ok(body)
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        let tiers: Vec<&str> = self.allowed.iter().map(|t| t.name()).collect();
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("gewe", env!("CARGO_PKG_VERSION")))
            .with_instructions(format!(
            "GeWe (个微) WeChat API: one tool per operation. Enabled tiers: {}. Sends are paced by GeWe's rules.",
            tiers.join(", ")
        ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = self
            .tools
            .iter()
            .filter(|t| self.enabled(t))
            .map(|t| t.tool.clone())
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(tool) = self.tools.iter().find(|t| t.op.id == request.name) else {
            return Ok(refused(format!("no tool `{}`", request.name)));
        };
        let tier = tool.op.tier();
        if !self.enabled(tool) {
            return Ok(refused(format!(
                "`{}` is a `{tier}` tool, which is not enabled: start gewe mcp with --allow {tier}",
                request.name
            )));
        }
        let body = match self.body(tool, request.arguments) {
            Ok(body) => body,
            Err(message) => return Ok(refused(message)),
        };
        let call = self.client.call_json_typed(tool.op.path, body.clone());
        let result = if tier == Tier::Send {
            // One send at a time per device, with GeWe's gaps between users and groups.
            let app_id = body.get("appId").and_then(Value::as_str).unwrap_or("");
            let to = body.get("toWxid").and_then(Value::as_str).unwrap_or("");
            self.pacer.send(app_id, to, call).await
        } else {
            // Downloads spaced, Moments not fetched too often, searches capped a day.
            match self.limits.run(tool.op.path, call).await {
                Ok(result) => result,
                Err(refusal) => return Ok(refused(refusal)),
            }
        };
        Ok(match result {
            Ok(data) => {
                let text = serde_json::to_string(&data).unwrap_or_else(|_| "null".into());
                CallToolResult::success(vec![ContentBlock::text(text)]).into()
            }
            Err(error) => refused(crate::exit::Failure::from(error).message),
        })
    }
}
