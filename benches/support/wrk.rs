//! Load from `wrk` in a second process: the script that makes each request a text message with
//! a distinct `NewMsgId`, and the reading of wrk's report. Shared by the receiver benchmarks.

#![allow(dead_code)]

use std::process::Command;

/// wrk's script: a distinct `NewMsgId` per request, across threads and rounds.
const SCRIPT: &str = r#"
local counter = 0
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function request()
  counter = counter + 1
  local id = string.format("%s%02d%010d", os.getenv("ROUND_PREFIX") or "71", tid, counter)
  local body = '{"TypeName":"AddMsg","Appid":"wx_load","Wxid":"wxid_bot","Data":{"MsgId":'
    .. counter .. ',"FromUserName":{"string":"wxid_friend_' .. (counter % 100) .. '"},"ToUserName":{"string":"wxid_bot"},'
    .. '"MsgType":1,"Content":{"string":"压测消息 ' .. counter .. '"},"Status":3,'
    .. '"CreateTime":1705043418,"MsgSource":"<msgsource></msgsource>","NewMsgId":' .. id .. '}}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
"#;

pub struct Run {
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    pub non_2xx: u64,
    pub errors: u64,
}

pub fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// wrk's latency text (`1.23ms`, `850.00us`, `1.02s`) in ms.
fn ms(text: &str) -> f64 {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        (text, 1.0)
    };
    number.parse::<f64>().unwrap_or(f64::NAN) * factor
}

/// Runs wrk against `url`, or exits the process saying why it failed.
pub fn run(url: &str, script: &std::path::Path, prefix: &str) -> Run {
    try_run(url, script, prefix).unwrap_or_else(|why| {
        eprintln!("{why}");
        std::process::exit(if why.starts_with("cannot run wrk") {
            2
        } else {
            1
        });
    })
}

/// Runs wrk against `url`, or says why it failed: for a bench that must stop its own child
/// processes (a `redis-server`) before it fails.
pub fn try_run(url: &str, script: &std::path::Path, prefix: &str) -> Result<Run, String> {
    let output = Command::new("wrk")
        .args([
            "-t",
            &env("WRK_THREADS", "1"),
            "-c",
            &env("WRK_CONNECTIONS", "64"),
            "-d",
            &env("WRK_DURATION", "10s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(url)
        .env("ROUND_PREFIX", prefix)
        .output()
        .map_err(|e| format!("cannot run wrk ({e}); install it: apt-get install wrk"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() || !text.contains("Requests/sec:") {
        return Err(format!(
            "wrk failed ({}):\n{text}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let field = |prefix: &str| -> Option<String> {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned())
    };
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let errors = text
        .lines()
        .find(|l| l.trim_start().starts_with("Socket errors:"))
        .map(|l| {
            l.split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    Ok(Run {
        requests_per_sec: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN),
        p50_ms: field("50%").map_or(f64::NAN, |v| ms(&v)),
        p99_ms: field("99%").map_or(f64::NAN, |v| ms(&v)),
        requests,
        non_2xx: field("Non-2xx or 3xx responses:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        errors,
    })
}

/// Writes the script to a temporary file named after `name`, and returns its path.
pub fn script(name: &str) -> std::path::PathBuf {
    write_script(name, SCRIPT)
}

/// Writes the wrk script `source` to a temporary file named after `name`, and returns its path.
pub fn write_script(name: &str, source: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("gewe-{name}-{}.lua", std::process::id()));
    std::fs::write(&path, source).expect("write the wrk script");
    path
}
