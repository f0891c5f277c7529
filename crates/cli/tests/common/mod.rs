//! Helpers shared by the CLI's end-to-end tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The `fusionguard` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_fusionguard");

/// A fresh, unique path under the system temporary directory (not created).
pub fn tempdir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    std::env::temp_dir().join(format!("fg-{tag}-{}-{nanos}", std::process::id()))
}

/// Runs `fusionguard ARGS` with `stdin`; returns the exit code and stdout followed by stderr.
pub fn run(args: &[&str], stdin: &[u8]) -> (i32, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fusionguard");
    child.stdin.take().expect("stdin").write_all(stdin).expect("write stdin");
    let out = child.wait_with_output().expect("wait for fusionguard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Like [`run`], with success as a flag.
pub fn run_ok(args: &[&str], stdin: &str) -> (bool, String) {
    let (code, out) = run(args, stdin.as_bytes());
    (code == 0, out)
}
