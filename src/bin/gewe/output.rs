//! What goes to stdout: one line at a time, flushed, so a pipe reader sees it at once.

use crate::exit::{Code, Failure};
use std::io::Write;

/// Writes a line to stdout; a closed pipe (`gewe call … | head -c1`) is not an error.
pub fn print_line(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::new(
            Code::Failure,
            format!("cannot write to stdout: {e}"),
        )),
        _ => Ok(()),
    }
}

/// Writes bytes to stdout as they are; a closed pipe is not an error.
pub fn print_bytes(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::new(
            Code::Failure,
            format!("cannot write to stdout: {e}"),
        )),
        _ => Ok(()),
    }
}
