//! The man page and shell completions in `doc/` are generated from the binary's own help
//! texts (`doc/generate.py`); this fails when a help text changed and they were not
//! regenerated, so what users read offline cannot drift from `--help`.

use std::path::Path;
use std::process::Command;

#[test]
fn man_page_and_completions_match_the_help_texts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile_dir();
    let status = Command::new("python3")
        .arg(root.join("doc/generate.py"))
        .arg(crate::support::binary())
        .arg(&out)
        .status()
        .expect("python3 runs");
    assert!(status.success(), "doc/generate.py failed");
    for file in [
        "nanopy.1",
        "completions/nanopy.bash",
        "completions/_nanopy",
        "completions/nanopy.fish",
    ] {
        let fresh = std::fs::read_to_string(out.join(file)).unwrap();
        let committed = std::fs::read_to_string(root.join("doc").join(file)).unwrap();
        assert!(
            fresh == committed,
            "doc/{file} is out of date with the help texts: run \
             `python3 doc/generate.py target/debug/nanopy doc`"
        );
    }
    let man = std::fs::read_to_string(out.join("nanopy.1")).unwrap();
    // roff writes a hyphen as `\-`.
    for command in ["agent", "cron\\-add", "tools", "doctor"] {
        assert!(
            man.contains(&format!(".SS {command}\n")),
            "{command} missing"
        );
    }
    std::fs::remove_dir_all(&out).unwrap();
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nanopy-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
