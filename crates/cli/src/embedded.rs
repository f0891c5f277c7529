//! The law library, the seed-world deployment and the federation's deployments, embedded in the
//! binary (`build.rs`) as the defaults of `--laws` and `--config`: an installed `fusionguard` works from any folder. A folder
//! named by the flag wins when it exists (so `laws/` of a checkout is used, edits included);
//! otherwise the default flags fall back to the embedded copy, extracted once per run into a new
//! private folder (0700, created atomically under the system's temporary folder, removed when the
//! command ends), and any other missing path is an error that names the flag to pass.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};

include!(concat!(env!("OUT_DIR"), "/embedded_files.rs"));

/// The default of `--laws`.
pub const DEFAULT_LAWS: &str = "laws";
/// The default of `--config` where it has one.
pub const DEFAULT_CONFIG: &str = "examples/seed-world";
/// The default of `demo --federation --config`: a folder with one folder per hub.
pub const DEFAULT_FEDERATION: &str = "examples/federation";

/// The folder this run extracted the embedded files to, if it did.
static EXTRACTED: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Removes the extracted files when dropped (hold one in `main`).
pub struct Cleanup;

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Ok(mut dir) = EXTRACTED.lock() {
            if let Some(d) = dir.take() {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
}

/// The folder holding the embedded `laws/`, `seed-world/` and `federation/`, extracted on first
/// use (`federation/HUB/deployment.toml` extends `../../seed-world/deployment.toml`, as in a checkout).
fn extracted() -> Result<PathBuf> {
    let mut slot = EXTRACTED.lock().map_err(|_| anyhow::anyhow!("embedded files: poisoned lock"))?;
    if let Some(d) = slot.as_ref() {
        return Ok(d.clone());
    }
    let base = std::env::temp_dir();
    let mut made = None;
    for attempt in 0..100u32 {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let dir = base.join(format!("fusionguard-embedded-{}-{nanos:09}-{attempt}", std::process::id()));
        // Created here, now, private: never a folder someone else prepared.
        let mut builder = std::fs::DirBuilder::new();
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(&dir) {
            Ok(()) => {
                made = Some(dir);
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => bail!("cannot extract the embedded law library into {}: {e}", base.display()),
        }
    }
    let Some(dir) = made else { bail!("cannot create a private folder in {}", base.display()) };
    *slot = Some(dir.clone());
    for (sub, files) in [("laws", LAWS), ("seed-world", SEED_WORLD), ("federation", FEDERATION)] {
        for (rel, bytes) in files {
            let path = dir.join(sub).join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    Ok(dir)
}

/// The law library folder for `--laws PATH`: PATH if it exists, the embedded library for the
/// default when `./laws` is absent, else an error naming the flag.
pub fn laws(path: &Path) -> Result<PathBuf> {
    resolve(path, DEFAULT_LAWS, "laws", "--laws", "the law library folder")
}

/// The deployment for `--config PATH`, as [`laws`] (the embedded default is the seed world).
pub fn config(path: &Path) -> Result<PathBuf> {
    resolve(path, DEFAULT_CONFIG, "seed-world", "--config", "the deployment folder (holding deployment.toml) or file")
}

/// The federation's deployments for `demo --federation --config PATH`, as [`laws`] (the embedded
/// default is `examples/federation`).
pub fn federation(path: &Path) -> Result<PathBuf> {
    resolve(path, DEFAULT_FEDERATION, "federation", "--config", "the folder holding one folder per hub")
}

fn resolve(path: &Path, default: &str, sub: &str, flag: &str, what: &str) -> Result<PathBuf> {
    if path.exists() {
        return Ok(path.to_path_buf());
    }
    if path == Path::new(default) {
        return Ok(extracted()?.join(sub));
    }
    bail!("{flag} {}: no such file or folder; pass {flag} with {what}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_library_and_seed_world_are_complete() {
        assert!(LAWS.iter().any(|(p, _)| *p == "schema.cedarschema" || p.ends_with(".cedarschema")));
        assert!(LAWS.iter().filter(|(p, _)| p.ends_with(".cedar")).count() > 10);
        assert!(SEED_WORLD.iter().any(|(p, _)| *p == "deployment.toml"));
        let hubs: Vec<&str> = FEDERATION.iter().map(|(p, _)| *p).collect();
        assert_eq!(hubs, ["ca/deployment.toml", "co/deployment.toml", "tx/deployment.toml"]);
        let err = laws(Path::new("/nonexistent/laws")).unwrap_err().to_string();
        assert!(err.contains("--laws /nonexistent/laws") && err.contains("pass --laws"), "{err}");
    }
}
