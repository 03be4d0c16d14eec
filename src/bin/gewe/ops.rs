//! `gewe ops [MODULE]`: the operations, one a line.

use crate::exit::{Code, Failure};

/// Arguments of `gewe ops`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only this module's operations (`group`, `message`, …).
    pub module: Option<String>,
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let ops: Vec<_> = gewe::operations()
        .iter()
        .filter(|op| args.module.as_deref().is_none_or(|m| op.module == m))
        .collect();
    if ops.is_empty() {
        let mut modules: Vec<&str> = gewe::operations().iter().map(|op| op.module).collect();
        modules.sort_unstable();
        modules.dedup();
        return Err(Failure::new(
            Code::InvalidRequest,
            format!(
                "no module `{}`; the modules are {}",
                args.module.as_deref().unwrap_or(""),
                modules.join(", ")
            ),
        ));
    }
    let width = ops.iter().map(|op| op.path.len()).max().unwrap_or(0);
    let mut out = String::new();
    for op in ops {
        out.push_str(&format!(
            "{:width$}  {}  {:11}  {}\n",
            op.path,
            op.method,
            op.tier().name(),
            op.summary
        ));
    }
    crate::output::print_line(out.trim_end_matches('\n'))
}
