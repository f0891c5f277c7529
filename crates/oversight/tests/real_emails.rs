//! The Outlook CSV email production in `../shared/data/flock`.

use std::path::PathBuf;

use oversight::{Kind, Subject};

#[test]
fn eugene_outlook_export() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/flock/eugene-or-public-records-emails-2025.csv");
    let mut findings = Vec::new();
    let report = oversight::emails::audit_path(&path, &mut |f| findings.push(f)).unwrap();
    assert_eq!((report.stats.read, report.stats.kept, report.stats.rejected.len()), (90, 90, 0));
    // One thread: 89 daily digests and one forward ("FW: ...") of a digest.
    assert_eq!(report.threads.len(), 1);
    assert_eq!(report.threads[0].0, "upcoming deployment activity for or - eugene pd");
    assert_eq!(report.threads[0].1.len(), 90);
    // The only finding: the forward's sender is an Exchange X.500 address, kept as its id.
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!((f.kind, f.line), (Kind::NonEmailSender, 143));
    assert_eq!(f.subject, Subject::Email { message_id: "row-4".into(), file: None });
    assert!(f.evidence.starts_with("sender \"DEWITT Derek A\" is an Exchange X.500 address: \"/O=EXCHANGELABS/"));
    // No immigration vocabulary and no DHS address in this production.
    assert_eq!(report.stats.findings, 1);
}
