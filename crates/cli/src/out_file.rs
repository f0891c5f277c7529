//! Where a command's `--out` goes. A regular file (or a new one) is written whole or not at all:
//! beside its name, then renamed over it when complete, so that a failure leaves no half file. A
//! device, a named pipe or a socket (`/dev/stdout`, `/dev/null`, a FIFO) is written in place:
//! renaming a file over it would replace the device or the pipe itself. A symbolic link is
//! followed, so that the file it names is replaced and the link is kept.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// How `--out PATH` is written.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// Written to `partial` (beside `path`), then renamed to `path`.
    Renamed {
        /// The file as it will be once complete (a link's target).
        path: PathBuf,
        /// Where it is written until then.
        partial: PathBuf,
    },
    /// Written in place: `path` is a device, a named pipe or a socket.
    InPlace(PathBuf),
}

impl Target {
    /// How `path` is to be written, `suffix` naming the file written beside it (`.partial`);
    /// fails for a folder.
    pub fn of(path: &Path, suffix: &str) -> Result<Target> {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => bail!("{} is a folder: give --out a file name", path.display()),
            Ok(m) if !m.is_file() => return Ok(Target::InPlace(path.to_owned())),
            _ => {}
        }
        // A link is followed to the file it names (a link to nothing is refused, naming it).
        let path = match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                std::fs::canonicalize(path).with_context(|| format!("following the link {}", path.display()))?
            }
            _ => path.to_owned(),
        };
        let mut name = path.file_name().context("--out needs a file name")?.to_owned();
        name.push(suffix);
        Ok(Target::Renamed { partial: path.with_file_name(name), path })
    }

    /// Where the bytes are written.
    pub fn writing_to(&self) -> &Path {
        match self {
            Target::Renamed { partial, .. } => partial,
            Target::InPlace(path) => path,
        }
    }

    /// Renames the complete file over its name (nothing to do in place).
    pub fn commit(&self) -> Result<()> {
        match self {
            Target::Renamed { path, partial } => std::fs::rename(partial, path)
                .with_context(|| format!("renaming {} to {}", partial.display(), path.display())),
            Target::InPlace(_) => Ok(()),
        }
    }

    /// Removes what was written beside the name (nothing to do in place).
    pub fn discard(&self) {
        if let Target::Renamed { partial, .. } = self {
            let _ = std::fs::remove_file(partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_renamed_devices_written_in_place_folders_refused() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("f.jsonl");
        assert_eq!(
            Target::of(&new, ".partial").unwrap(),
            Target::Renamed { path: new.clone(), partial: dir.path().join("f.jsonl.partial") }
        );
        std::fs::write(&new, "old").unwrap();
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink(&new, &link).unwrap();
        let target = Target::of(&link, ".partial").unwrap();
        let real = std::fs::canonicalize(&new).unwrap();
        assert_eq!(target.writing_to(), real.with_file_name("f.jsonl.partial"));
        assert_eq!(Target::of(Path::new("/dev/null"), ".partial").unwrap(), Target::InPlace("/dev/null".into()));
        let err = Target::of(dir.path(), ".partial").unwrap_err().to_string();
        assert!(err.contains("is a folder"), "{err}");
    }
}
