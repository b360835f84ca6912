//! Writing results to stdout. A reader that goes away (`nanopy … | head -1`) ends the program
//! quietly instead of with a panic.

use crate::error::{Error, Result};
use std::io::{self, Write};

/// Prints `text` and a newline.
pub fn line(text: &str) -> Result<()> {
    write(&format!("{text}\n"))
}

/// Prints `text` as is and flushes, for streamed pieces.
pub fn write(text: &str) -> Result<()> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|error| match error.kind() {
            io::ErrorKind::BrokenPipe => Error::BrokenPipe,
            _ => Error::Failed(format!("cannot write to stdout: {error}")),
        })
}

/// Prints a JSON document, pretty.
pub fn json(value: &serde_json::Value) -> Result<()> {
    line(&serde_json::to_string_pretty(value).expect("JSON values always serialise"))
}
