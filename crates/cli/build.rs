//! Embeds the law library (`laws/`), the seed-world deployment (`examples/seed-world/`) and the
//! federation's deployments (`examples/federation/*/deployment.toml`) in the binary, so that
//! `fusionguard` works from any folder (`src/embedded.rs`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else if path.is_file() {
            out.push(path);
        }
    }
}

/// Writes the table `name` of the files under `root` that `keep` accepts.
fn table(name: &str, root: &Path, keep: fn(&Path) -> bool, code: &mut String) {
    println!("cargo:rerun-if-changed={}", root.display());
    let mut list = Vec::new();
    files(root, &mut list);
    list.retain(|p| keep(p));
    let _ = writeln!(code, "/// The files of `{}`, by path relative to it.", root.display());
    let _ = writeln!(code, "pub static {name}: &[(&str, &[u8])] = &[");
    for path in &list {
        println!("cargo:rerun-if-changed={}", path.display());
        let rel = path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/");
        let _ = writeln!(code, "    ({rel:?}, include_bytes!({:?})),", path.display().to_string());
    }
    let _ = writeln!(code, "];");
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let repo = manifest.join("../..");
    let mut code = String::new();
    let every = |_: &Path| true;
    table("LAWS", &repo.join("laws"), every, &mut code);
    table("SEED_WORLD", &repo.join("examples/seed-world"), every, &mut code);
    // The deployments only: never the TLS keys a run may have written beside them.
    table("FEDERATION", &repo.join("examples/federation"), |p| p.ends_with("deployment.toml"), &mut code);
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("embedded_files.rs");
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}
