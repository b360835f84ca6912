//! The `nanopy` binary: run the command line, report an error on stderr, exit with its code.

#![forbid(unsafe_code)]

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let command = nanopybot::command_named(&args);
    if let Err(error) = nanopybot::run(args) {
        match (&error, error.hint(command)) {
            (nanopybot::Error::BrokenPipe, _) => {}
            (_, Some(hint)) => eprintln!("error: {error} ({hint})"),
            (_, None) => eprintln!("error: {error}"),
        }
        std::process::exit(error.exit_code());
    }
}
