//! `gewe mock [--listen ADDR]`: the embedded mock as a standalone server.

use crate::exit::{Code, Failure};
use std::net::SocketAddr;

/// Arguments of `gewe mock`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The address to listen on; port 0 picks a free one.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:2531")]
    pub listen: SocketAddr,
}

pub async fn run(args: Args) -> Result<(), Failure> {
    // The mock's own token, never the one in GEWE_TOKEN: it prints the token it accepts.
    let mock = gewe::mock::MockServer::start_on(args.listen, gewe::mock::DEFAULT_TOKEN)
        .await
        .map_err(|e| {
            let cause = std::error::Error::source(&e)
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            Failure::new(Code::Failure, format!("{e}{cause}"))
        })?;
    crate::output::print_line(&format!(
        "GEWE_BASE_URL={}\nGEWE_TOKEN={}",
        mock.base_url(),
        mock.token()
    ))?;
    eprintln!(
        "gewe mock: listening on {}; POST an event to http://{}{} to deliver it to the callback URL; Ctrl-C stops",
        mock.addr(),
        mock.addr(),
        gewe::mock::PUSH_PATH
    );
    crate::stop::signal().await;
    Ok(())
}
