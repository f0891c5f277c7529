//! Embeds the law library (`laws/`) and the seed-world deployment (`examples/seed-world/`) in the
//! binary, so that `fusionguard` works from any folder (`src/embedded.rs`).

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

fn table(name: &str, root: &Path, code: &mut String) {
    println!("cargo:rerun-if-changed={}", root.display());
    let mut list = Vec::new();
    files(root, &mut list);
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
    table("LAWS", &repo.join("laws"), &mut code);
    table("SEED_WORLD", &repo.join("examples/seed-world"), &mut code);
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("embedded_files.rs");
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}
