//! The `nanopy` binary: run the command line, report an error on stderr, exit with its code.

#![forbid(unsafe_code)]

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if let Err(error) = nanopybot::run(args) {
        if !matches!(error, nanopybot::Error::BrokenPipe) {
            eprintln!("error: {error}");
        }
        std::process::exit(error.exit_code());
    }
}
