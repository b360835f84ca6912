//! Diagnostics that core code raises while it works (`warning:` and `note:` lines): one sink
//! for all of them, instead of `eprintln!` scattered through the core. A terminal front end
//! leaves the default (stderr); a front end that owns the screen or talks to a chat (the
//! REPL, the Telegram bot) installs its own with [`set_sink`] and shows them its way.
//!
//! This is the program's one piece of process-wide mutable state: diagnostics are raised deep
//! inside modules (an MCP server failing mid-call, a fallback passing over a provider) that
//! have no other path to the front end, and threading a handle through every layer would
//! burden every signature for the sake of one line of text.

use std::sync::RwLock;

/// Where diagnostics go when a front end has installed a sink of its own.
type Sink = Box<dyn Fn(&str) + Send + Sync>;

static SINK: RwLock<Option<Sink>> = RwLock::new(None);

/// Raises `warning: {text}`.
pub fn warning(text: &str) {
    emit(&format!("warning: {text}"));
}

/// Raises `note: {text}`.
pub fn note(text: &str) {
    emit(&format!("note: {text}"));
}

/// Sends one whole diagnostic line (its `warning:`/`note:` prefix included) to the sink.
fn emit(line: &str) {
    // A poisoned lock (a sink that panicked) still holds a usable value; diagnostics must
    // never be lost to it.
    let sink = SINK.read().unwrap_or_else(|poisoned| poisoned.into_inner());
    match sink.as_ref() {
        Some(sink) => sink(line),
        None => eprintln!("{line}"),
    }
}

/// Installs `sink` for every later diagnostic of this process (`None`: back to stderr).
#[allow(dead_code)] // the REPL and the bot of the third stage install theirs
pub fn set_sink(sink: Option<Sink>) {
    *SINK
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = sink;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn an_installed_sink_receives_whole_prefixed_lines() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = Arc::clone(&seen);
        set_sink(Some(Box::new(move |line| {
            into.lock().unwrap().push(line.to_string())
        })));
        warning("unit-test sink check");
        warning("unit-test sink again");
        set_sink(None);
        let seen = seen.lock().unwrap();
        // Other tests may raise diagnostics meanwhile; ours arrive whole and in order.
        let ours: Vec<&String> = seen
            .iter()
            .filter(|l| l.contains("unit-test sink"))
            .collect();
        assert_eq!(
            ours,
            [
                "warning: unit-test sink check",
                "warning: unit-test sink again"
            ]
        );
    }
}
