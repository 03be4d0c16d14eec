//! `gewe call PATH [JSON | @FILE | -]`: one operation, its `data` on stdout.

use crate::exit::{Code, Failure};
use crate::settings::Flags;
use serde_json::Value;
use std::io::{IsTerminal, Read};

/// Arguments of `gewe call`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The operation's path, e.g. `/group/getChatroomInfo` (`gewe ops` lists them).
    pub path: String,
    /// The body: JSON, `@FILE` for a file's JSON, `-` for stdin's; `{}` when left out.
    pub body: Option<String>,
}

pub async fn run(flags: &Flags, args: Args) -> Result<(), Failure> {
    let invalid = |msg: String| Failure::new(Code::InvalidRequest, msg);
    let op = gewe::operation(&args.path).ok_or_else(|| {
        invalid(format!(
            "{}: no such operation; `gewe ops` lists them",
            args.path
        ))
    })?;
    let mut body = read_body(args.body.as_deref())?;
    if !body.is_object() {
        return Err(invalid(format!(
            "{}: the body must be a JSON object, not {}",
            op.path,
            kind(&body)
        )));
    }
    let schema = op
        .request_schema()
        .map(|s| serde_json::to_value(s).unwrap_or(Value::Null));
    let takes_app_id = schema
        .as_ref()
        .is_some_and(|s| s.pointer("/properties/appId").is_some());
    if takes_app_id && body.get("appId").is_none() {
        if let Some(app_id) = flags.app_id().await? {
            body["appId"] = Value::String(app_id);
        }
    }
    // A request that carries the token itself (setCallback) gets it from the settings, so it
    // need not be typed where `ps` and the shell history show it.
    let takes_token = schema
        .as_ref()
        .is_some_and(|s| s.pointer("/properties/token").is_some());
    if takes_token && body.get("token").is_none() {
        if let Some(token) = flags.token()? {
            body["token"] = Value::String(token);
        }
    }
    // Every violation at once, each naming its field; the typed request checks again.
    if let Some(schema) = &schema {
        let violations = gewe::mock::check_schema(schema, &body);
        if !violations.is_empty() {
            let hint = if takes_app_id && body.get("appId").is_none() {
                "\nthe device's appId comes from GEWE_APP_ID, --app-id or the store (GEWE_STORE)"
            } else {
                ""
            };
            return Err(invalid(format!(
                "{}: the body does not fit the operation; nothing was sent:\n  {}{hint}",
                op.path,
                violations.join("\n  ")
            )));
        }
    }
    let client = flags.client()?;
    let data = client.call_json(op.path, body).await?;
    let text = if std::io::stdout().is_terminal() {
        serde_json::to_string_pretty(&data)
    } else {
        serde_json::to_string(&data)
    }
    .map_err(|e| Failure::new(Code::Unreadable, format!("cannot print `data`: {e}")))?;
    crate::output::print_line(&text)
}

fn read_body(arg: Option<&str>) -> Result<Value, Failure> {
    let invalid = |msg: String| Failure::new(Code::InvalidRequest, msg);
    let (text, from) = match arg {
        None => return Ok(Value::Object(Default::default())),
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| invalid(format!("cannot read the body from stdin: {e}")))?;
            (text, "stdin".to_string())
        }
        Some(arg) => match arg.strip_prefix('@') {
            Some(file) => (
                std::fs::read_to_string(file)
                    .map_err(|e| invalid(format!("cannot read the body file {file}: {e}")))?,
                file.to_string(),
            ),
            None => (arg.to_string(), "the argument".to_string()),
        },
    };
    serde_json::from_str(&text).map_err(|e| invalid(format!("the body in {from} is not JSON: {e}")))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
