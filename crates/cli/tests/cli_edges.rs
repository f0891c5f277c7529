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

#[test]
fn writing_into_a_closed_pipe_ends_quietly_with_status_zero() {
    let dir = tempfile::tempdir().unwrap();
    let request = dir.path().join("r.json");
    std::fs::write(&request, common::SCENARIO_1).unwrap();
    let request = request.display().to_string();
    for args in [&["laws", "test", "--verbose"][..], &["laws", "list"], &["laws", "check"], &["decide", &request]] {
        let (code, stderr) = into_closed_pipe(args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

/// Runs `fusionguard token ARGS --data DATA` (`issue` also gets the seed world's `--config`):
/// exit code, stdout, stderr.
fn token(data: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("token").args(args).arg("--data").arg(data);
    if args.first() == Some(&"issue") {
        cmd.arg("--config").arg(repo().join("examples/seed-world"));
    }
    let out = cmd.output().expect("run fusionguard");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether `s` is an RFC 3339 time in UTC with seconds (`2026-05-09T07:29:33Z`).
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && s.chars().enumerate().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == 'T',
            13 | 16 => c == ':',
            19 => c == 'Z',
            _ => c.is_ascii_digit(),
        })
}

#[test]
fn token_ttl_zero_and_unknown_roles_are_refused_and_roles_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let issue = ["issue", "--agency", "oc-sheriff", "--user", "det-x"];
    let (code, _, err) = token(dir.path(), &[&issue[..], &["--ttl-hours", "0"]].concat());
    assert_eq!(code, Some(2), "{err}");
    let (code, out, err) = token(dir.path(), &[&issue[..], &["--role", "wizard"]].concat());
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(err.contains("wizard") && err.contains("supervisor"), "{err}");
    let (_, list, _) = token(dir.path(), &["list"]);
    assert!(list.is_empty(), "nothing issued: {list}");
    let help = Command::new(BIN).args(["token", "issue", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for role in ["supervisor", "analyst", "detective", "deportation_officer", "special_agent", "clerk"] {
        assert!(help.contains(role), "{role} not in help: {help}");
    }
    let (code, _, err) = token(dir.path(), &[&issue[..], &["--role", "special_agent"]].concat());
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn token_revoke_takes_the_id_as_listed_and_as_the_token_begins_and_times_are_rfc3339() {
    let dir = tempfile::tempdir().unwrap();
    let issue = ["issue", "--agency", "oc-sheriff", "--user", "det-x", "--role", "detective"];
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let (code, out, err) = token(dir.path(), &issue);
        assert_eq!(code, Some(0), "{err}");
        assert!(!err.contains("Unix"), "{err}");
        tokens.push(out.trim().to_string());
    }
    let (code, list, _) = token(dir.path(), &["list"]);
    assert_eq!(code, Some(0));
    let listed_id = list.lines().next().unwrap().split('\t').next().unwrap().to_string();
    let expires = list.lines().next().unwrap().rsplit(' ').next().unwrap();
    assert!(is_rfc3339(expires), "{list}");
    // As `token list` prints it, as the token begins (`fgt_<id>`), and the whole token.
    let begins = tokens[1].rsplit_once('_').unwrap().0.to_string();
    for id in [listed_id.as_str(), &begins, &tokens[2]] {
        let (code, out, err) = token(dir.path(), &["revoke", "--id", id]);
        assert_eq!(code, Some(0), "{id}: {out}{err}");
    }
    let (_, list, _) = token(dir.path(), &["list"]);
    assert_eq!(list.lines().filter(|l| l.contains("\trevoked\t")).count(), 3, "{list}");
}

/// Runs `fusionguard ARGS`: exit code and stdout followed by stderr.
fn fg(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(BIN).args(args).output().expect("run fusionguard");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

/// A new ledger of one checkpointed entry in `dir` under `origin`; returns its verifier key.
fn ledger(dir: &std::path::Path, origin: &str) -> String {
    let d = dir.to_str().unwrap();
    let (code, out) = fg(&["ledger", "init", "--dir", d, "--origin", origin]);
    assert_eq!(code, Some(0), "{out}");
    let vkey = out.lines().last().unwrap().to_string();
    let mut child = Command::new(BIN)
        .args(["ledger", "append", "--dir", d])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"one entry\n").unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(fg(&["ledger", "checkpoint", "--dir", d]).0, Some(0));
    vkey
}

#[test]
fn ledger_verify_says_a_different_key_signed_under_the_right_name() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let _ = ledger(a.path(), "example.org/same");
    let other_key = ledger(b.path(), "example.org/same");
    let tiles = a.path().join("tiles");
    let (code, out) = fg(&["ledger", "verify", "--tiles", tiles.to_str().unwrap(), "--vkey", &other_key]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("signed with a different key"), "{out}");
    assert!(!out.contains("no signature"), "{out}");
}

#[test]
fn ledger_verify_names_a_missing_tiles_folder_and_an_unreachable_url() {
    let dir = tempfile::tempdir().unwrap();
    let vkey = ledger(dir.path(), "example.org/edges");
    let missing = dir.path().join("no-such-tiles");
    let missing = missing.to_str().unwrap();
    let (code, out) = fg(&["ledger", "verify", "--tiles", missing, "--vkey", &vkey]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains(missing), "{out}");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/ledger");
    let (code, out) = fg(&["ledger", "verify", "--tiles", &url, "--vkey", &vkey]);
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains(&url), "{out}");
}

#[test]
fn an_os_error_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    // A folder without the library's schema file: the OS error once.
    let missing = dir.path().join("empty-laws");
    std::fs::create_dir(&missing).unwrap();
    let (code, out) = fg(&["laws", "--laws", missing.to_str().unwrap(), "check"]);
    assert_eq!(code, Some(2), "{out}");
    assert_eq!(out.matches("os error 2").count(), 1, "{out}");
    let csv = dir.path().join("no-such.csv");
    let (code, out) = fg(&["audit", "searches", csv.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{out}");
    assert_eq!(out.matches("os error 2").count(), 1, "{out}");
    assert_eq!(out.matches(csv.to_str().unwrap()).count(), 1, "the path once: {out}");
}

#[test]
fn listen_accepts_localhost() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-deployment");
    let (code, out) =
        fg(&["serve", "--listen", "localhost:0", "--config", missing.to_str().unwrap(), "--data", "/nonexistent"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(!out.contains("--listen"), "localhost:PORT refused: {out}");
    assert!(out.contains("pass --config"), "past the arguments, at the missing deployment: {out}");
}

#[test]
fn every_subcommands_help_ends_with_examples() {
    let commands = [
        "decide",
        "laws",
        "laws test",
        "laws check",
        "laws list",
        "laws slice",
        "laws bench",
        "ledger",
        "ledger init",
        "ledger append",
        "ledger checkpoint",
        "ledger prove",
        "ledger prove inclusion",
        "ledger prove consistency",
        "ledger verify",
        "ledger witness",
        "audit",
        "audit searches",
        "audit sharing",
        "audit emails",
        "audit intelligence",
        "audit ledger",
        "report",
        "report transparency",
        "demo",
        "serve",
        "token",
        "token issue",
        "token revoke",
        "token list",
        "sources",
        "sources import",
    ];
    for command in commands {
        let args: Vec<&str> = command.split(' ').chain(["--help"]).collect();
        let (code, out) = fg(&args);
        assert_eq!(code, Some(0), "{command}: {out}");
        let tail: Vec<&str> = out.trim_end().lines().rev().take_while(|l| !l.starts_with("Examples:")).collect();
        assert!(out.contains("\nExamples:\n"), "{command}: {out}");
        assert!(
            !tail.is_empty() && tail.len() <= 2 && tail.iter().all(|l| l.contains("fusionguard ")),
            "{command}: {out}"
        );
    }
}

#[test]
fn the_law_library_and_the_seed_world_are_embedded_so_any_folder_works() {
    let elsewhere = tempfile::tempdir().unwrap();
    let request = elsewhere.path().join("request.json");
    std::fs::write(
        &request,
        r#"{"requester": {"id": "ero-officer", "agency": "ice-ero"}, "source": "ociac-alpr", "action": "lookup",
            "purpose": "civil_immigration_enforcement", "legal_basis": {"kind": "none"},
            "subject": {"kind": "plate", "value": "7ABC123"}}"#,
    )
    .unwrap();
    let run = |args: &[&str]| Command::new(BIN).current_dir(elsewhere.path()).args(args).output().unwrap();
    // No laws/ or examples/ here: the embedded defaults decide, as from the repository.
    let out = run(&["decide", "request.json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("\"decision\": \"deny\"") || text.contains("\"decision\":\"deny\""), "{text}");
    let out = run(&["laws", "check"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A path given and missing names the flag to pass.
    let out = run(&["laws", "check", "--laws", "my-laws"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--laws my-laws") && err.contains("pass --laws"), "{err}");
    let out = run(&["decide", "--config", "my-world", "request.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --config"));
}

#[test]
fn token_usage_says_schema_goes_with_store() {
    for sub in ["list", "revoke", "issue"] {
        let out = Command::new(BIN).args(["token", sub]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("(--data DIR | --store URL --schema NAME)"), "token {sub}: {err}");
    }
}
