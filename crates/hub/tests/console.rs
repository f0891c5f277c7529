//! The console's auditor uploads over real HTTP: at most two are read at once (each may fill a
//! temporary file up to the upload limit), so a third gets a clear 503 page and nothing is read;
//! once one ends, the next upload is read.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use common::{between, ConsoleUser, TestHub};

const BOUNDARY: &str = "fgTestBoundary7";

/// The start of a multipart upload form: the CSRF token, the kind, and the file's part headers.
fn form_head(csrf: &str) -> String {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{BOUNDARY}\r\n\
         Content-Disposition: form-data; name=\"kind\"\r\n\r\nsearches\r\n--{BOUNDARY}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"audit.csv\"\r\nContent-Type: text/csv\r\n\r\n"
    )
}

/// An upload whose file is still arriving: the headers and the first bytes, the rest never sent.
fn slow_upload(user: &ConsoleUser, csrf: &str) -> TcpStream {
    let addr = user.hub.url.strip_prefix("http://").unwrap();
    let mut s = TcpStream::connect(addr).unwrap();
    let head = form_head(csrf);
    write!(
        s,
        "POST /console/audit HTTP/1.1\r\nHost: {addr}\r\nCookie: fg_session={}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n{head}Time,User\r\n",
        user.session,
        head.len() + 1_000_000
    )
    .unwrap();
    s.flush().unwrap();
    s
}

/// A whole upload of `file`; the status and the page.
fn upload(user: &ConsoleUser, csrf: &str, file: &[u8]) -> (u16, String) {
    let mut body = form_head(csrf).into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let mut r = user
        .agent
        .post(format!("{}/console/audit", user.hub.url))
        .header("cookie", format!("fg_session={}", user.session))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .send(&body[..])
        .unwrap();
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

#[test]
fn at_most_two_uploads_are_read_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let auditor = ConsoleUser::log_in(&hub, &hub.token("lapd-oig", "inspector-ng", "auditor"));
    let (status, page) = auditor.get("/console/audit");
    assert_eq!(status, 200, "{page}");
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"");
    let file = std::fs::read(common::repo().join("../shared/data/flock/eugene-or-search-audit-2025-06.csv")).unwrap();

    // Two uploads still arriving hold both places.
    let first = slow_upload(&auditor, &csrf);
    let second = slow_upload(&auditor, &csrf);
    std::thread::sleep(Duration::from_millis(300));
    let (status, page) = upload(&auditor, &csrf, &file);
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("Other uploads are being read now; try again in a minute."), "{page}");
    assert!(!page.contains("Findings"), "nothing was read: {page}");

    // One of them goes away: its place is free again, and a whole upload is read.
    drop(first);
    let mut read = (0, String::new());
    for _ in 0..50 {
        read = upload(&auditor, &csrf, &file);
        if read.0 != 503 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(read.0, 200, "{}", read.1);
    assert!(read.1.contains("audit.csv") && read.1.contains("<table"), "the findings of the file read: {}", read.1);
    drop(second);
}
