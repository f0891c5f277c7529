//! Printed email in PDF: the real Eugene messages (`../shared/data/flock`, an Outlook CSV export)
//! printed in Outlook's and Gmail's layouts by the writer in `print/`, read back, and compared with
//! the CSV import of the same messages; scans, mixed, damaged and encrypted PDFs.

mod print;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oversight::emails::{self, Email, EmailReport};
use oversight::{Finding, Kind, Severity, Subject};
use print::{Font, Mail, Page, Text};

fn eugene() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/flock/eugene-or-public-records-emails-2025.csv")
}

/// A party of the export: its name, and its address unless it is an Exchange (`EX`) one, which a
/// print shows by name.
fn parties(names: &str, addrs: &str, types: &str) -> Vec<(String, Option<String>)> {
    let split = |s: &str| s.split(';').map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned).collect::<Vec<_>>();
    let (n, a, t) = (split(names), split(addrs), split(types));
    assert_eq!((n.len(), a.len()), (t.len(), t.len()), "{names} / {types}");
    n.into_iter().zip(a).zip(t).map(|((n, a), t)| (n, (t != "EX").then_some(a))).collect()
}

/// The export's messages as a print shows them (the export has no dates: each print gets a
/// placeholder date, June 2025 by row).
fn eugene_mails() -> Vec<Mail> {
    let mut r = csv::Reader::from_path(eugene()).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c.trim_start_matches('\u{feff}') == name).unwrap();
    let mut out = Vec::new();
    for (i, row) in r.records().enumerate() {
        let row = row.unwrap();
        let from = parties(&row[col("From: (Name)")], &row[col("From: (Address)")], &row[col("From: (Type)")]);
        assert_eq!(from.len(), 1);
        let day = 1 + i % 30;
        let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
        let wd = weekdays[(day - 1) % 7];
        out.push(Mail {
            from: from[0].clone(),
            date_outlook: format!("{wd}, June {day}, 2025 5:00 AM"),
            date_gmail: format!("{}, Jun {day}, 2025 at 5:00 AM", &wd[..3]),
            to: parties(&row[col("To: (Name)")], &row[col("To: (Address)")], &row[col("To: (Type)")]),
            cc: parties(&row[col("CC: (Name)")], &row[col("CC: (Address)")], &row[col("CC: (Type)")]),
            subject: row[col("Subject")].to_owned(),
            attachments: Vec::new(),
            body: row[col("Body")].to_owned(),
        });
    }
    out
}

/// What the PDF import should find for a party: its address, or its name when printed by name.
fn id(p: &(String, Option<String>)) -> String {
    p.1.clone().unwrap_or_else(|| p.0.clone())
}

fn squeeze(s: &str) -> String {
    s.split_whitespace().collect()
}

fn audit(path: &Path) -> (EmailReport, Vec<Finding>) {
    let mut findings = Vec::new();
    let report = emails::audit_path(path, &mut |f| findings.push(f)).unwrap();
    (report, findings)
}

/// Findings per message id, each as (kind, severity, rule, evidence), the evidence left out for
/// the sender that is not an email address (an X.500 address in the export, a name in a print).
fn by_message(findings: &[Finding]) -> BTreeMap<String, Vec<(Kind, Severity, &'static str, String)>> {
    let mut out: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for f in findings {
        let Subject::Email { message_id, .. } = &f.subject else { panic!("{f:?}") };
        let evidence = if f.kind == Kind::NonEmailSender { String::new() } else { f.evidence.clone() };
        out.entry(message_id.clone()).or_default().push((f.kind, f.severity, f.rule, evidence));
    }
    out.values_mut().for_each(|v| v.sort());
    out
}

/// The print of the Eugene export read back: the same 90 messages, senders, recipients,
/// subjects and bodies, the same findings per message, each on the right pages.
fn same_as_the_export(pdf: &[u8], spans: &[(u32, u32)], outlook: bool) {
    same_as_the_export_with_notes(pdf, spans, outlook, &[]);
}

fn same_as_the_export_with_notes(pdf: &[u8], spans: &[(u32, u32)], outlook: bool, notes: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("eugene.pdf");
    std::fs::write(&path, pdf).unwrap();
    let name = path.display().to_string();
    let mails = eugene_mails();
    assert_eq!((mails.len(), spans.len()), (90, 90));

    // The messages, field by field.
    let read = emails::pdf_messages(&path, pdf, &name, None).unwrap();
    assert_eq!(read.emails.len(), 90);
    assert_eq!(read.pages, spans, "pages of each message");
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    assert_eq!(read.notes, notes.iter().map(|n| format!("{name}: {n}")).collect::<Vec<_>>());
    let mut ids = Vec::new();
    for (i, (e, m)) in read.emails.iter().zip(&mails).enumerate() {
        let Email { from_address, from_name, to, cc, subject, body, line, date, .. } = e;
        assert_eq!(from_address, &id(&m.from), "message {i}");
        let name_shown = if m.from.1.as_ref() == Some(&m.from.0) { "" } else { m.from.0.as_str() };
        assert_eq!(from_name, name_shown, "message {i}");
        assert_eq!(to, &m.to.iter().map(id).collect::<Vec<_>>(), "message {i}");
        assert_eq!(cc, &m.cc.iter().map(id).collect::<Vec<_>>(), "message {i}");
        assert_eq!(subject, &m.subject, "message {i}");
        assert_eq!(date, if outlook { &m.date_outlook } else { &m.date_gmail }, "message {i}");
        let want = if outlook { print::win_ansi_text(&m.body) } else { m.body.clone() };
        assert_eq!(squeeze(body), squeeze(&want), "body of message {i}");
        assert_eq!(*line, u64::from(spans[i].0));
        ids.push(e.message_id.clone());
    }
    // Ids name the page a message starts on, `.2` for the second starting there.
    let mut seen: BTreeMap<u32, u32> = BTreeMap::new();
    for (i, id) in ids.iter().enumerate() {
        let k = seen.entry(spans[i].0).or_default();
        *k += 1;
        let want = if *k == 1 { format!("{name}:p{}", spans[i].0) } else { format!("{name}:p{}.{k}", spans[i].0) };
        assert_eq!(id, &want);
    }

    // The findings: as the CSV import's, message by message.
    let (csv_report, csv_findings) = audit(&eugene());
    let (report, findings) = audit(&path);
    assert_eq!((report.stats.read, report.stats.kept, report.stats.rejected.len()), (90, 90, 0));
    assert_eq!(findings.len(), 90);
    assert_eq!(report.stats.findings, csv_report.stats.findings);
    assert_eq!(findings.iter().filter(|f| f.kind == Kind::PersonalAccount).count(), 89);
    assert_eq!(findings.iter().filter(|f| f.kind == Kind::NonEmailSender).count(), 1);
    let want = by_message(&csv_findings);
    let got = by_message(&findings);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(got.get(id), want.get(&format!("row-{}", i + 1)), "findings of {id} (row {})", i + 1);
    }
    assert_eq!(got.len(), want.len());
    for f in &findings {
        let Subject::Email { message_id } = &f.subject else { unreachable!() };
        let i = ids.iter().position(|x| x == message_id).unwrap();
        assert_eq!((f.line, &f.file), (u64::from(spans[i].0), &None), "{f:?}");
    }
    // The forward's sender is printed by name.
    let sender = findings.iter().find(|f| f.kind == Kind::NonEmailSender).unwrap();
    assert_eq!(
        sender.evidence,
        "sender \"DEWITT Derek A\" is not an email address: \"DEWITT Derek A\" (kept as the sender's id)"
    );
    // One thread, one personal account (by its hash), as in the export.
    assert_eq!(report.threads.len(), 1);
    assert_eq!(report.threads[0].1.len(), 90);
    assert_eq!(report.personal_accounts, csv_report.personal_accounts);
    assert_eq!(report.pages, ids.iter().zip(spans).map(|(id, &(a, b))| (id.clone(), a, b)).collect::<Vec<_>>());
}

#[test]
fn eugene_printed_from_outlook() {
    let (pdf, spans) = print::outlook(&eugene_mails(), false);
    // Messages run over page breaks, and some start on the page where another ends.
    assert!(spans.iter().filter(|(a, b)| a != b).count() >= 60, "{spans:?}");
    assert!(spans.windows(2).any(|w| w[0].1 == w[1].0), "{spans:?}");
    same_as_the_export(&pdf, &spans, true);
}

#[test]
fn eugene_printed_from_outlook_compressed() {
    let (pdf, spans) = print::outlook(&eugene_mails(), true);
    same_as_the_export(&pdf, &spans, true);
}

#[test]
fn eugene_printed_as_plain_text() {
    // No bold name line, labels and values padded with spaces: the line above each block marks
    // the message (the forward's quoted header, after an empty line, stays in its body).
    let (pdf, spans) = print::outlook_plain(&eugene_mails());
    same_as_the_export_with_notes(
        &pdf,
        &spans,
        true,
        &["no sender's name line in bold or larger type above the From: blocks (Outlook's print layout): a block \
           starts a message when a short line stands directly above it after an empty line"],
    );
}

#[test]
fn eugene_printed_from_gmail() {
    let (pdf, spans) = print::gmail(&eugene_mails(), "kcorney199@gmail.com", true);
    assert!(spans.iter().filter(|(a, b)| a != b).count() >= 60, "{spans:?}");
    same_as_the_export(&pdf, &spans, false);
}

fn mail(
    from: (&str, Option<&str>),
    to: &[(&str, Option<&str>)],
    cc: &[(&str, Option<&str>)],
    subject: &str,
    body: &str,
) -> Mail {
    let p = |(n, a): (&str, Option<&str>)| (n.to_owned(), a.map(str::to_owned));
    Mail {
        from: p(from),
        date_outlook: "Tuesday, March 4, 2025 9:12 AM".into(),
        date_gmail: "Tue, Mar 4, 2025 at 9:12 AM".into(),
        to: to.iter().copied().map(p).collect(),
        cc: cc.iter().copied().map(p).collect(),
        subject: subject.into(),
        attachments: Vec::new(),
        body: body.into(),
    }
}

/// Three short messages on one page: a DHS address in CC and immigration vocabulary, a FEMA
/// sender, a personal account and an attachment's name; a reply quoting a header block.
fn short_mails() -> Vec<Mail> {
    let mut a = mail(
        ("Sgt. Ann Reyes", Some("areyes@ocsd.org")),
        &[("RTIC Desk", Some("rtic@ocsd.org")), ("ANALYST Kim", None)],
        &[("Agent Brooks", Some("j.brooks@ice.dhs.gov"))],
        "RE: plate request",
        "Running it now for the ICE detainer.\n\nFrom: Agent Brooks <j.brooks@ice.dhs.gov>\nSent: Monday, March 3, 2025 4:40 PM\nTo: Sgt. Ann Reyes <areyes@ocsd.org>\nSubject: plate request\n\nCan you run this plate for us?",
    );
    a.attachments = vec!["plate list.xlsx".into()];
    let b = mail(
        ("Grants Officer", Some("grants.officer@fema.dhs.gov")),
        &[("City Grants", Some("grants@eugene-or.gov"))],
        &[],
        "FY25 award",
        "The award letter is attached.",
    );
    let mut c = mail(
        ("Det. Lee", Some("det.lee.home@gmail.com")),
        &[("Vendor Rep", Some("rep@flocksafety.com"))],
        &[],
        "detainer request.pdf",
        "See attached, sent from my own account.",
    );
    c.attachments = vec!["detainer request.pdf".into()];
    vec![a, b, c]
}

#[test]
fn short_messages_on_one_page_in_both_layouts() {
    let dir = tempfile::tempdir().unwrap();
    for (layout, (pdf, spans)) in
        [("outlook", print::outlook(&short_mails(), false)), ("gmail", print::gmail(&short_mails(), "me@x.org", false))]
    {
        let path = dir.path().join(format!("{layout}.pdf"));
        std::fs::write(&path, &pdf).unwrap();
        let name = path.display().to_string();
        let (report, findings) = audit(&path);
        assert_eq!((report.stats.read, report.stats.kept), (3, 3), "{layout}");
        let ids: Vec<String> = report.pages.iter().map(|p| p.0.clone()).collect();
        if layout == "outlook" {
            assert_eq!(spans, vec![(1, 1), (1, 1), (1, 1)]);
            assert_eq!(ids, [format!("{name}:p1"), format!("{name}:p1.2"), format!("{name}:p1.3")]);
        } else {
            assert_eq!(spans, vec![(1, 1), (2, 2), (3, 3)]);
            assert_eq!(ids, [format!("{name}:p1"), format!("{name}:p2"), format!("{name}:p3")]);
        }
        let got: Vec<(usize, Kind, Severity, &str)> = findings
            .iter()
            .map(|f| {
                let Subject::Email { message_id, .. } = &f.subject else { unreachable!() };
                (ids.iter().position(|i| i == message_id).unwrap(), f.kind, f.severity, f.rule)
            })
            .collect();
        let mut want = vec![
            (0, Kind::FederalOriginator, Severity::High, "email.dhs_address"),
            (0, Kind::ImmigrationPurpose, Severity::High, "email.immigration_purpose"),
            (1, Kind::FederalOriginator, Severity::Low, "email.federal_non_enforcement"),
            (2, Kind::PersonalAccount, Severity::Medium, "email.personal_account"),
            (2, Kind::ImmigrationPurpose, Severity::High, "email.immigration_purpose"),
        ];
        // Both prints list the attachments' names (Outlook in the header, Gmail after the body),
        // which the detectors read; Gmail's list is not part of the body.
        assert_eq!(report.attachments.len(), 2, "{layout}");
        assert_eq!(report.attachments[0].1.name, "plate list.xlsx");
        assert_eq!(report.attachments[1].1.name, "detainer request.pdf");
        want.sort();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        assert_eq!(got_sorted, want, "{layout}: {findings:#?}");
        let dhs = findings.iter().find(|f| f.rule == "email.dhs_address").unwrap();
        assert_eq!(dhs.evidence, "DHS address in CC: j.brooks@ice.dhs.gov");
        assert_eq!(dhs.line, 1);
        // The quoted header block is the reply's body, not a message.
        let read = emails::pdf_messages(&path, &pdf, &name, None).unwrap();
        assert!(read.emails[0].body.contains("From: Agent Brooks <j.brooks@ice.dhs.gov>"), "{}", read.emails[0].body);
        assert_eq!(read.emails[0].to, ["rtic@ocsd.org", "ANALYST Kim"]);
        for e in &read.emails {
            assert!(!e.body.contains("attachment") && !e.body.contains("24K"), "{layout}: {}", e.body);
        }
        // Threads by subject: "RE: plate request" alone, the two others.
        assert_eq!(report.threads.len(), 3);
    }
}

#[test]
fn a_scan_needs_ocr() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scan.pdf");
    std::fs::write(&path, print::scanned(3)).unwrap();
    let e = emails::audit_path(&path, &mut |_| {}).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{p}: no text layer: pages 1-3 of 3 are only images (a scanned production), so there is no text to read; run OCR on it first (e.g. ocrmypdf {p} ocr.pdf) and audit the result",
            p = path.display()
        )
    );
}

#[test]
fn a_mixed_pdf_reads_its_text_and_names_its_scanned_pages() {
    // Page 1: a message; page 2: a scan; page 3: a message.
    let mut sheet = print::Sheet::default();
    let m = &short_mails()[1];
    let msg = |sheet: &mut print::Sheet| {
        sheet.line(12.0, &[(54.0, Font::HelveticaBold, &m.from.0)]);
        for (l, v) in [
            ("From:", print::shown(&m.from)),
            ("Sent:", m.date_outlook.clone()),
            ("To:", print::shown(&m.to[0])),
            ("Subject:", m.subject.clone()),
        ] {
            sheet.line(10.0, &[(54.0, Font::HelveticaBold, l), (144.0, Font::Helvetica, &v)]);
        }
        sheet.gap(12.0);
        sheet.body(&m.body, Font::Helvetica);
    };
    msg(&mut sheet);
    sheet.new_page();
    sheet.pages.last_mut().unwrap().image = true;
    sheet.new_page();
    msg(&mut sheet);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.pdf");
    std::fs::write(&path, print::write(&sheet.pages, true)).unwrap();
    let (report, findings) = audit(&path);
    assert_eq!((report.stats.read, report.stats.kept), (2, 2));
    assert_eq!(report.pages.iter().map(|p| (p.1, p.2)).collect::<Vec<_>>(), [(1, 1), (3, 3)]);
    assert_eq!(findings.len(), 2);
    assert_eq!(
        report.warnings,
        [format!(
            "{}: page 2 has no text layer (images only: scanned) and was not read; run OCR on the file (e.g. ocrmypdf) to audit it",
            path.display()
        )]
    );
}

#[test]
fn damaged_encrypted_or_other_pdfs_are_named_errors_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let (pdf, _) = print::outlook(&short_mails(), true);
    let path = dir.path().join("cut.pdf");
    // Cut anywhere: some text read, or an error naming the file; never a panic.
    let mut errors = 0;
    let mut partial = 0;
    for cut in (0..pdf.len()).step_by(37).chain([pdf.len() - 1, pdf.len() / 2]) {
        std::fs::write(&path, &pdf[..cut]).unwrap();
        match emails::audit_path(&path, &mut |_| {}) {
            Ok(r) => {
                assert!(r.stats.kept <= 3);
                if cut < pdf.len() - 10 {
                    assert!(r.warnings.iter().any(|w| w.contains("it is truncated")), "{cut}: {:?}", r.warnings);
                }
                partial += 1;
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.starts_with(&format!("{}: ", path.display())), "{msg}");
                errors += 1;
            }
        }
    }
    assert!(errors > 0 && partial > 0, "{errors} errors, {partial} partial reads");
    // Cut before its pages: the error says what is wrong.
    std::fs::write(&path, &pdf[..200]).unwrap();
    let e = emails::audit_path(&path, &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("truncated"), "{e}");
    // Not a PDF at all, though named .pdf.
    std::fs::write(&path, b"<html>Not found</html>").unwrap();
    let e = emails::audit_path(&path, &mut |_| {}).unwrap_err().to_string();
    assert_eq!(e, format!("{}: not a PDF file: no %PDF- header in its first 1024 bytes", path.display()));
    // Encrypted with a password.
    let locked = print::write_with(
        &[Page {
            texts: vec![Text { x: 54.0, y: 700.0, size: 10.0, font: Font::Helvetica, text: "From: a@b.org".into() }],
            image: false,
        }],
        false,
        true,
    );
    std::fs::write(&path, locked).unwrap();
    let e = emails::audit_path(&path, &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("encrypted with a password") && e.contains("qpdf --decrypt"), "{e}");
    // Text, but no printed email in it.
    let page = Page {
        texts: vec![Text {
            x: 54.0,
            y: 700.0,
            size: 10.0,
            font: Font::Helvetica,
            text: "Quarterly budget report".into(),
        }],
        image: false,
    };
    std::fs::write(&path, print::write(&[page], false)).unwrap();
    let e = emails::audit_path(&path, &mut |_| {}).unwrap_err().to_string();
    assert!(
        e.contains("no printed email found in the text of its 1 page") && e.contains("\"Quarterly budget report\""),
        "{e}"
    );
}

#[test]
fn a_folder_of_pdf_and_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.pdf"), print::outlook(&short_mails()[..2], false).0).unwrap();
    std::fs::write(dir.path().join("b.eml"), "From: x@ocsd.org\nSubject: hi\nMessage-ID: <1@x>\n\nhello\n").unwrap();
    std::fs::write(dir.path().join("c.pdf"), print::scanned(1)).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
    let (report, findings) = audit(dir.path());
    assert_eq!((report.stats.read, report.stats.kept), (3, 3));
    assert_eq!(report.pages, [("a.pdf:p1".into(), 1, 1), ("a.pdf:p1.2".into(), 1, 1)]);
    let f = findings.iter().find(|f| f.rule == "email.dhs_address").unwrap();
    assert_eq!(f.subject, Subject::Email { message_id: "a.pdf:p1".into() });
    assert_eq!(f.file.as_deref(), Some("a.pdf"));
    assert_eq!(report.warnings.len(), 1);
    assert!(
        report.warnings[0].starts_with("c.pdf: no text layer: page 1 of 1 is only images"),
        "{:?}",
        report.warnings
    );
    assert!(report.warnings[0].ends_with("(skipped)"));
    assert!(
        report.stats.notes.iter().any(|n| n == "1 files not ending in .eml or .pdf were not read: notes.txt"),
        "{:?}",
        report.stats.notes
    );
}
