//! The Outlook CSV email production in `../shared/data/flock`.

use std::path::PathBuf;

use oversight::{Kind, Severity, Subject};

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
    // 89 digests from the vendor reach the detectives' Exchange accounts and one personal Gmail
    // account: one personal-account finding each (Python over the same file: 89 rows with a
    // gmail.com address beside an organisation's address). The forward's sender is an Exchange
    // X.500 address, kept as its id.
    assert_eq!(findings.len(), 90, "{findings:?}");
    let f = findings.iter().find(|f| f.kind == Kind::NonEmailSender).unwrap();
    assert_eq!(f.line, 143);
    assert_eq!(f.subject, Subject::Email { message_id: "row-4".into() });
    assert!(f.evidence.starts_with("sender \"DEWITT Derek A\" is an Exchange X.500 address: \"/O=EXCHANGELABS/"));
    let personal: Vec<_> = findings.iter().filter(|f| f.kind == Kind::PersonalAccount).collect();
    assert_eq!(personal.len(), 89);
    assert!(personal.iter().all(|f| f.severity == Severity::Medium && f.rule == "email.personal_account"));
    // Every digest but the forward (row 4).
    assert!(personal.iter().all(|f| f.subject != Subject::Email { message_id: "row-4".into() }));
    // The evidence names the service, never the address's local part; the user is its hash.
    let hash = personal[0].user.clone().unwrap();
    assert_eq!(hash.len(), 16);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    for f in &personal {
        assert_eq!(f.user.as_ref(), Some(&hash));
        assert!(!f.evidence.contains('@'), "{}", f.evidence);
        assert!(f.evidence.starts_with("personal mail service gmail.com in To (address "), "{}", f.evidence);
        assert!(
            f.evidence.ends_with("on a message with 4 organisation address(es)")
                || f.evidence.ends_with("with 5 organisation address(es)"),
            "{}",
            f.evidence
        );
    }
    // The summary counts one account, by hash.
    assert_eq!(report.personal_accounts.len(), 1);
    let (h, a) = report.personal_accounts.iter().next().unwrap();
    assert_eq!((h, a.domain.as_str(), a.messages), (&hash, "gmail.com", 89));
    // No immigration vocabulary and no DHS address in this production.
    assert!(findings.iter().all(|f| !matches!(f.kind, Kind::ImmigrationPurpose | Kind::FederalOriginator)));
    assert_eq!(report.stats.findings, 90);
}
