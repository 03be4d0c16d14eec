//! `gewe`: any GeWe operation from a shell, login, a live event tail, the mock as a standalone
//! server, the API as MCP tools.
//!
//! Each command is one module; `settings` reads the environment and the flags that override it,
//! `exit` maps what went wrong to the exit codes the README lists.

mod call;
mod exit;
mod limits;
mod listen;
mod login;
mod mcp;
mod mock;
mod ops;
mod output;
mod settings;
mod stop;
mod tools;

use clap::{CommandFactory, Parser, Subcommand};
use exit::Failure;
use std::process::ExitCode;

/// GeWe (个微) from a shell: list and call its operations, log in, tail the callbacks, run its
/// mock, serve the API to an AI assistant (MCP).
///
/// Settings come from GEWE_TOKEN, GEWE_BASE_URL, GEWE_APP_ID and GEWE_STORE; flags override
/// them. The token is never a flag value: it comes from GEWE_TOKEN or --token-file.
#[derive(Parser, Debug)]
#[command(name = "gewe", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    settings: settings::Flags,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the operations: path, method, tier, summary.
    Ops(ops::Args),
    /// Call one operation by its path, with a JSON body.
    Call(call::Args),
    /// Log in with a QR code at the terminal; the device is kept in the store (GEWE_STORE).
    Login(login::Args),
    /// Print each callback delivery as one JSON line.
    Listen(listen::Args),
    /// Run the GeWe mock as a server, for bots in any language.
    Mock(mock::Args),
    /// Serve the API as MCP tools on stdio; `read` tools only, unless --allow enables a tier.
    Mcp(mcp::Args),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ops(args) => ops::run(&args),
        Command::Completions { shell } => {
            // Generated into memory: clap_complete panics when it cannot write.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "gewe", &mut script);
            output::print_bytes(&script)
        }
        Command::Call(args) => runtime().and_then(|rt| rt.block_on(call::run(&cli.settings, args))),
        Command::Login(args) => {
            runtime().and_then(|rt| rt.block_on(login::run(&cli.settings, args)))
        }
        Command::Listen(args) => {
            runtime().and_then(|rt| rt.block_on(listen::run(&cli.settings, args)))
        }
        Command::Mcp(args) => runtime().and_then(|rt| rt.block_on(mcp::run(&cli.settings, args))),
        Command::Mock(args) => runtime().and_then(|rt| rt.block_on(mock::run(args))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::new(
                exit::Code::Failure,
                format!("cannot start the runtime: {e}"),
            )
        })
}
