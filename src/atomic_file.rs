//! Crash-safe file writes: readers and crashes see the old content or the new, never a part.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Files we create hold private data (keys, memory), so only the owner may read them.
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// Opens `path` for reading and writing, creating it private (0600) if it is absent and
/// leaving its content as it is: for lock files and stores that must never be world-readable,
/// not even for a moment after creation.
pub fn open_private(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(PRIVATE_FILE_MODE)
        .open(path)
}

/// Replaces `path` with `contents`: write a temporary file beside it, fsync it, rename it over
/// the original, then fsync the directory so the rename itself survives a power cut.
/// On any failure (a full disk, say) the temporary file is removed and `path` is untouched.
pub fn replace(path: &Path, contents: &[u8]) -> io::Result<()> {
    let temp = write_temp_beside(path, contents)?;
    if let Err(error) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(error);
    }
    sync_parent_dir(path)
}

/// Creates `path` with `contents` only if it does not exist yet, atomically: a hard link from
/// a complete temporary file, which fails rather than overwrite. Returns false if it existed.
pub fn create_new(path: &Path, contents: &[u8]) -> io::Result<bool> {
    let temp = write_temp_beside(path, contents)?;
    let linked = fs::hard_link(&temp, path);
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => sync_parent_dir(path).map(|()| true),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(error) => Err(error),
    }
}

/// Removes temporary files beside `path` left by writers that died mid-write. Only call this
/// while holding the lock that every writer of `path` holds: then no temporary is in use.
pub fn remove_stale_temps(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}.tmp.", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn write_temp_beside(path: &Path, contents: &[u8]) -> io::Result<PathBuf> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    // The pid keeps two processes apart; the lock held by callers keeps threads apart.
    name.push(format!(".tmp.{}", std::process::id()));
    let temp = path.with_file_name(name);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(PRIVATE_FILE_MODE)
            .open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()
    })();
    match result {
        Ok(()) => Ok(temp),
        Err(error) => {
            let _ = fs::remove_file(&temp);
            Err(error)
        }
    }
}

fn sync_parent_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    use crate::test_support::scratch_dir as scratch;

    #[test]
    fn replace_writes_private_file_and_leaves_no_temporary() {
        let dir = scratch("replace");
        let path = dir.join("f.json");
        replace(&path, b"one").unwrap();
        replace(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn create_new_never_overwrites() {
        let dir = scratch("create");
        let path = dir.join("c.json");
        assert!(create_new(&path, b"first").unwrap());
        assert!(!create_new(&path, b"second").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"first");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    }
}
