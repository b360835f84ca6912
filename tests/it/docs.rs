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

/// Issue 26, defect 7: README points only at what exists: its own headings, no outside
/// document, and the demo's last line names a heading README has.
#[test]
fn readme_references_resolve() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        !readme.contains("SPEC §"),
        "README cites a SPEC that is not in the repository"
    );
    let headings: Vec<&str> = readme
        .lines()
        .filter_map(|line| {
            line.trim_start_matches('#')
                .strip_prefix(' ')
                .filter(|_| line.starts_with('#'))
        })
        .collect();
    let demo = std::fs::read_to_string(root.join("bench/demo.py")).unwrap();
    let pointer = demo
        .split("README.md, \\\"")
        .nth(1)
        .and_then(|rest| rest.split("\\\"").next())
        .expect("the demo points at a README section");
    assert!(
        headings.contains(&pointer),
        "no README heading `{pointer}`: {headings:?}"
    );
    for anchor in readme.match_indices("](#").map(|(at, _)| &readme[at + 3..]) {
        let anchor = &anchor[..anchor.find(')').unwrap()];
        let found = headings
            .iter()
            .any(|h| h.to_lowercase().replace(' ', "-") == anchor);
        assert!(found, "README links to #{anchor}, which is no heading");
    }
}

/// Issue 26, defect 6: no build artifact is committed.
#[test]
fn no_build_artifacts_are_tracked() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Ok(listed) = Command::new("git")
        .arg("-C")
        .arg(root)
        .arg("ls-files")
        .output()
    else {
        return; // not a git checkout (a source tarball): nothing to check
    };
    let files = String::from_utf8_lossy(&listed.stdout);
    let artifacts: Vec<&str> = files
        .lines()
        .filter(|file| file.contains("__pycache__") || file.ends_with(".pyc"))
        .collect();
    assert!(
        artifacts.is_empty(),
        "tracked build artifacts: {artifacts:?}"
    );
}
