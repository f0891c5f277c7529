//! Helpers shared by the CLI's end-to-end tests: the binary, the repository, temporary paths, runs
//! of the binary and raw HTTP.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The `fusionguard` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_fusionguard");

/// The `fusionguard` binary under test.
pub fn bin() -> &'static str {
    BIN
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

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

/// One HTTP/1.1 exchange over a plain socket: (status, body).
pub fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// Scenario 1 of the public record, a request the seed world denies (ICE asks OCIAC to run a plate).
pub const SCENARIO_1: &str = r#"{
  "requester": {"id": "ero-officer", "agency": "ice-ero", "role": "deportation_officer"},
  "source": "ociac-alpr", "action": "lookup", "purpose": "civil_immigration_enforcement",
  "justification": "please run [CA plate]", "case_number": null,
  "legal_basis": {"kind": "none"}, "subject": {"kind": "plate", "value": "7ABC123"}
}"#;

/// A `fusionguard demo` process, read up to its "Press Ctrl-C" line; killed when dropped.
pub struct Demo {
    pub child: std::process::Child,
    /// What it printed up to "Press Ctrl-C", one line each.
    pub lines: Vec<String>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `fusionguard ARGS` from the repository and reads its output up to "Press Ctrl-C";
/// the rest of its output is drained (and printed) so that it never blocks on a full pipe.
pub fn start_demo(args: &[&std::ffi::OsStr]) -> Demo {
    use std::io::BufRead;
    let mut child = Command::new(bin())
        .current_dir(repo())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "demo exited early: {lines:?}");
        let done = line.starts_with("Press Ctrl-C");
        lines.push(line.trim_end().to_string());
        if done {
            break;
        }
    }
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = reader.read_to_string(&mut rest);
        print!("{rest}");
    });
    Demo { child, lines }
}

/// The value of `export VAR=...` in a demo's output.
pub fn token_of(lines: &[String], var: &str) -> String {
    let prefix = format!("export {var}=");
    lines.iter().find_map(|l| l.trim().strip_prefix(&prefix).map(str::to_string)).unwrap()
}
