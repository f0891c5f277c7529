//! mbox files and folders of .eml files written here: encoded-word subjects, folded headers, a DHS
//! address in CC, an attachment, a reply chain, and malformed messages.

use std::path::Path;

use oversight::emails::{audit_path, format_of, EmailReport, Format};
use oversight::{Finding, Kind, Severity, Subject};

/// An mbox of six messages: a request with a DHS agent in CC, an encoded-word subject and a PDF
/// attached; a reply; a reply to both whose folded subject holds a windows-1252 encoded word; a
/// message with a broken header line; a truncated multipart message; an unrelated digest.
const MBOX: &str = "From analyst@ocsd.org Mon Nov 10 09:00:00 2025
From: \"Garcia, Ana\" <analyst@ocsd.org>
To: records@ocsd.org
Cc: \"K. Agent\" <k.agent@ice.dhs.gov>
Subject: =?UTF-8?B?UGxhdGUgcmVxdWVzdCDigJMgSUNFIGRldGFpbmVy?=
Message-ID: <m1@ocsd.org>
Date: Mon, 10 Nov 2025 09:00:00 -0800
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=\"b1\"

This is a multi-part message in MIME format.
--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Please run plate 7ABC123 for our partners.=20
>From the field office, caf=C3=A9 meeting.
--b1
Content-Type: application/pdf; name=\"request.pdf\"
Content-Disposition: attachment;
 filename=\"request.pdf\"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcOkw7zD
tsOfCg==
--b1--

From records@ocsd.org Mon Nov 10 10:00:00 2025
From: records@ocsd.org
To: analyst@ocsd.org
Subject: RE: Plate request =?UTF-8?Q?=E2=80=93?= ICE detainer
Message-ID: <m2@ocsd.org>
In-Reply-To: <m1@ocsd.org>
References: <m1@ocsd.org>

Done, results attached.

From analyst@ocsd.org Mon Nov 10 11:00:00 2025
From: analyst@ocsd.org
To: records@ocsd.org
Subject: Re: Plate request
 =?windows-1252?Q?=96_deportation_follow-up?=
Message-ID: <m3@ocsd.org>
References: <m1@ocsd.org>
 <m2@ocsd.org>

Thanks.

From someone Mon Nov 10 12:00:00 2025
From: a@b.org
Subject broken header
Message-ID: <m4@x>

body

From someone Mon Nov 10 12:30:00 2025
From: a@b.org
Subject: cut off
Message-ID: <m5@x>
Content-Type: multipart/alternative; boundary=zz

--zz
Content-Type: text/plain

half a message

From x@y Mon Nov 10 13:00:00 2025
From: news@city.gov
Subject: Weekly digest
Message-ID: <m6@city.gov>

Nothing to see.
";

fn audit(path: &Path) -> (EmailReport, Vec<Finding>) {
    let mut findings = Vec::new();
    let report = audit_path(path, &mut |f| findings.push(f)).unwrap();
    (report, findings)
}

fn summary(findings: &[Finding]) -> Vec<(String, Kind, Severity, u64, String)> {
    findings.iter().map(|f| (f.subject.label(), f.kind, f.severity, f.line, f.evidence.clone())).collect()
}

#[test]
fn mbox_production() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("production.mbox");
    std::fs::write(&path, MBOX).unwrap();
    assert_eq!(format_of(&path).unwrap(), Format::Mbox);
    let (report, findings) = audit(&path);

    assert_eq!((report.stats.read, report.stats.kept, report.stats.findings), (6, 4, 4));
    let rejected: Vec<(u64, &str)> = report.stats.rejected.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(
        rejected,
        vec![
            (51, "not a header field (no name and colon) in the header block: \"Subject broken header\""),
            (66, "multipart/alternative body not closed by \"--zz--\" (truncated message?)"),
        ]
    );
    assert_eq!(
        summary(&findings),
        vec![
            (
                "m1@ocsd.org".into(),
                Kind::FederalOriginator,
                Severity::High,
                2,
                "DHS address in CC: k.agent@ice.dhs.gov".into()
            ),
            (
                "m1@ocsd.org".into(),
                Kind::ImmigrationPurpose,
                Severity::High,
                2,
                "subject \"Plate request – ICE detainer\": strong: \"ice detainer\"".into()
            ),
            (
                "m2@ocsd.org".into(),
                Kind::ImmigrationPurpose,
                Severity::High,
                29,
                "subject \"RE: Plate request – ICE detainer\": strong: \"ice detainer\"".into()
            ),
            // The folded subject's encoded word is decoded from windows-1252.
            (
                "m3@ocsd.org".into(),
                Kind::ImmigrationPurpose,
                Severity::High,
                39,
                "subject \"Re: Plate request – deportation follow-up\": strong: \"deportation\"".into()
            ),
        ]
    );
    // Each JSON finding names its message.
    let json = serde_json::to_value(&findings[0]).unwrap();
    assert_eq!(json["message_id"], "m1@ocsd.org");
    assert_eq!(json["rule"], "email.dhs_address");
    assert!(json.get("file").is_none());
    // Threads: the three linked messages (whatever their subjects) and the digest.
    assert_eq!(
        report.threads,
        vec![
            (
                "plate request – ice detainer".to_owned(),
                vec!["m1@ocsd.org".to_owned(), "m2@ocsd.org".into(), "m3@ocsd.org".into()]
            ),
            ("weekly digest".to_owned(), vec!["m6@city.gov".to_owned()]),
        ]
    );
    // The attachment: name, type and decoded size.
    assert_eq!(report.attachments.len(), 1);
    let (id, a) = &report.attachments[0];
    assert_eq!(
        (id.as_str(), a.name.as_str(), a.content_type.as_str(), a.size),
        ("m1@ocsd.org", "request.pdf", "application/pdf", 19)
    );
}

#[test]
fn folder_of_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for sub in ["a", "b", "c"] {
        std::fs::create_dir(root.join(sub)).unwrap();
    }
    // No Message-ID, a DHS address in BCC, an HTML part and an attachment named per RFC 2231.
    std::fs::write(
        root.join("a/001.eml"),
        "From: \"Ops\" <ops@city.gov>\nTo: sgt@ocsd.org\nBcc: liaison@cbp.dhs.gov\nSubject: Data request\n\
         Content-Type: multipart/mixed; boundary=\"=_x\"\n\n--=_x\nContent-Type: text/html; charset=iso-8859-1\n\n\
         <p>Removal&nbsp;order attached</p>\n--=_x\nContent-Type: text/csv\n\
         Content-Disposition: attachment; filename*=UTF-8''ICE%20list.csv\n\na,b\n1,2\n--=_x--\n",
    )
    .unwrap();
    // A reply with no threading fields: it joins the thread by its subject.
    std::fs::write(
        root.join("b/002.eml"),
        "From: sgt@ocsd.org\nTo: ops@city.gov\nSubject: RE:  data   request\nMessage-ID: <r1@ocsd.org>\n\nok\n",
    )
    .unwrap();
    // No From: rejected, with its file.
    std::fs::write(root.join("c/003.eml"), "To: sgt@ocsd.org\nSubject: anonymous\n\nhello\n").unwrap();
    // Saved with its mbox separator line and CRLF line ends; a federal sender.
    std::fs::write(
        root.join("004.eml"),
        "From x@fbi.gov Tue Nov 11 08:00:00 2025\r\nFrom: x@fbi.gov\r\nSubject: FBI note\r\nMessage-ID: <f1@fbi.gov>\r\n\r\nhi\r\n",
    )
    .unwrap();
    std::fs::write(root.join("notes.txt"), "index of the production").unwrap();
    assert_eq!(format_of(root).unwrap(), Format::EmlFolder);

    let (report, findings) = audit(root);
    assert_eq!((report.stats.read, report.stats.kept, report.stats.findings), (4, 3, 3));
    let r = &report.stats.rejected;
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].file.as_deref(), r[0].line, r[0].reason.as_str()), (Some("c/003.eml"), 1, "no From header field"));
    assert_eq!(
        summary(&findings),
        vec![
            (
                "f1@fbi.gov".into(),
                Kind::FederalOriginator,
                Severity::Medium,
                2,
                "federal address in From: x@fbi.gov".into()
            ),
            (
                "a/001.eml:1".into(),
                Kind::FederalOriginator,
                Severity::Medium,
                1,
                "DHS address in BCC: liaison@cbp.dhs.gov".into()
            ),
            (
                "a/001.eml:1".into(),
                Kind::ImmigrationPurpose,
                Severity::High,
                1,
                "subject \"Data request\": strong: \"removal order\", weak: \"ice\"".into()
            ),
        ]
    );
    assert_eq!(findings[1].subject, Subject::Email { message_id: "a/001.eml:1".into() });
    assert_eq!(findings[1].file.as_deref(), Some("a/001.eml"));
    assert_eq!(
        report.threads,
        vec![
            ("fbi note".to_owned(), vec!["f1@fbi.gov".to_owned()]),
            ("data request".to_owned(), vec!["a/001.eml:1".to_owned(), "r1@ocsd.org".into()]),
        ]
    );
    assert_eq!(report.attachments.len(), 1);
    let a = &report.attachments[0].1;
    assert_eq!((a.name.as_str(), a.content_type.as_str(), a.size), ("ICE list.csv", "text/csv", 7));
    assert_eq!(
        report.stats.notes,
        vec![
            "1 files not ending in .eml or .pdf were not read: notes.txt".to_owned(),
            "1 messages have no Message-ID: they are named FILE:LINE".into(),
        ]
    );
}

#[test]
fn not_an_mbox_and_an_empty_one() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.mbox");
    std::fs::write(&bad, "Subject: no separator\n\nbody\n").unwrap();
    let err = audit_path(&bad, &mut |_| {}).unwrap_err().to_string();
    assert!(
        err.ends_with(
            "line 1: not an mbox file: line 1 comes before any \"From \" separator line: \"Subject: no separator\""
        ),
        "{err}"
    );
    let empty = dir.path().join("empty.mbox");
    std::fs::write(&empty, "").unwrap();
    // An empty file is not an email production: an error saying what was expected.
    let err = audit_path(&empty, &mut |_| {}).unwrap_err().to_string();
    assert_eq!(err, format!("{}: the file is empty; expected {}", empty.display(), oversight::emails::EXPECTED));
    // Sniffing: a file with another extension is judged by its first line.
    let sniffed = dir.path().join("export.txt");
    std::fs::write(&sniffed, MBOX).unwrap();
    assert_eq!(format_of(&sniffed).unwrap(), Format::Mbox);
    std::fs::write(&sniffed, "From: a@b.org\n\nhi\n").unwrap();
    assert_eq!(format_of(&sniffed).unwrap(), Format::Eml);
    std::fs::write(&sniffed, "Subject,Body,From: (Address)\n").unwrap();
    assert_eq!(format_of(&sniffed).unwrap(), Format::OutlookCsv);
}

#[test]
fn a_large_mbox_reports_progress() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.mbox");
    let one = format!("{MBOX}\n");
    std::fs::write(&path, one.repeat(1000)).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let mut seen = Vec::new();
    let mut findings = 0;
    let report =
        oversight::emails::audit_path_with_progress(&path, &mut |b| seen.push(b), &mut |_| findings += 1).unwrap();
    assert_eq!((report.stats.read, report.stats.kept, findings), (6000, 4000, 4000));
    assert!(seen.len() as u64 >= size / (1 << 20) && seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert!(*seen.last().unwrap() <= size);
    // The same Message-IDs again are noted, and the threads still hold every message.
    assert_eq!(report.threads.iter().map(|t| t.1.len()).sum::<usize>(), 4000);
}
