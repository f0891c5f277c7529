//! The rough edges a new user hits on the command line (issue 12): closed pipes, token
//! vocabulary and times, `ledger verify`'s messages.

mod common;

use std::process::{Command, Stdio};

use common::{repo, BIN};

/// Runs `fusionguard ARGS` (in the repository root) with its standard output a pipe whose read
/// end is closed before the command writes; returns the exit code and standard error.
fn into_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fusionguard");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for fusionguard");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A request the seed world denies.
const REQUEST: &str = r#"{
  "requester": {"id": "ero-officer", "agency": "ice-ero", "role": "deportation_officer"},
  "source": "ociac-alpr", "action": "lookup", "purpose": "civil_immigration_enforcement",
  "justification": "please run [CA plate]", "case_number": null,
  "legal_basis": {"kind": "none"}, "subject": {"kind": "plate", "value": "7ABC123"}
}"#;

#[test]
fn writing_into_a_closed_pipe_ends_quietly_with_status_zero() {
    let dir = tempfile::tempdir().unwrap();
    let request = dir.path().join("r.json");
    std::fs::write(&request, REQUEST).unwrap();
    let request = request.display().to_string();
    for args in [&["laws", "test", "--verbose"][..], &["laws", "list"], &["laws", "check"], &["decide", &request]] {
        let (code, stderr) = into_closed_pipe(args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}
