//! The browser tests of the hub's server-rendered pages (issue 13): `node --test` runs
//! tests/browser/*.test.mjs, which start demo hubs of this build, drive Debian's Chromium
//! (/usr/bin/chromium) with playwright-core and check the pages with axe-core. Without Chromium, Node.js
//! or tests/browser/node_modules the test fails and says how to install them; it never skips.

mod common;

use std::path::Path;
use std::process::Command;

use common::{bin, repo};

const CHROMIUM: &str = "/usr/bin/chromium";

#[test]
fn browser_tests_pass() {
    let repo = repo();
    let dir = repo.join("tests/browser");

    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).is_file() {
        missing.push(format!("Chromium at {CHROMIUM}: `apt-get install -y chromium`"));
    }
    if !Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success()) {
        missing.push("Node.js (18 or later) on the PATH: `apt-get install -y nodejs npm`".to_string());
    }
    for package in ["playwright-core", "axe-core"] {
        if !dir.join("node_modules").join(package).join("package.json").is_file() {
            missing.push(format!("tests/browser/node_modules/{package}: `npm ci --prefix tests/browser`"));
        }
    }
    assert!(
        missing.is_empty(),
        "the browser tests need what this machine lacks:\n  {}\nInstall it from the repository root (as .ci/run does):\n  \
         apt-get install -y chromium\n  npm ci --prefix tests/browser",
        missing.join("\n  ")
    );

    // The test files by name: `node --test DIR` reads DIR as a glob from Node.js 21 on.
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".test.mjs"))
        .map(|name| format!("tests/browser/{name}"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.test.mjs in {}", dir.display());

    let out = Command::new("node")
        .current_dir(&repo)
        .arg("--test")
        .args(&files)
        .env("FUSIONGUARD_BIN", bin())
        .output()
        .expect("run node --test");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "node --test {} failed ({}):\n{text}", files.join(" "), out.status);
    println!("{text}");
}
