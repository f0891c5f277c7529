//! The agencies' published portal policies in `../shared/data/sharing` against the sharing list:
//! policy against practice.

use std::collections::BTreeMap;
use std::path::PathBuf;

use oversight::directory::Directory;
use oversight::policy_practice::{self, Commitment, PolicyFile};
use oversight::{Finding, Kind, Severity, Subject};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel)
}

fn policies() -> PolicyFile {
    policy_practice::read_policies_file(&data("sharing/flock-agency-policies-2023-07.csv")).unwrap()
}

fn agency(f: &Finding) -> &str {
    match &f.subject {
        Subject::Sharing { agency, .. } => agency,
        other => panic!("{other:?}"),
    }
}

#[test]
fn published_commitments() {
    let pf = policies();
    // 393 lines, 370 records (some cells run over several lines); 368 agencies, Rossford OH PD
    // three times.
    assert_eq!((pf.stats.read, pf.stats.kept, pf.stats.rejected.len()), (370, 370, 0));
    assert_eq!(pf.policies.len(), 368);
    let mut by: BTreeMap<(Commitment, &str), usize> = BTreeMap::new();
    for p in &pf.policies {
        for q in &p.promises {
            *by.entry((q.commitment, q.field.as_str())).or_default() += 1;
        }
    }
    let expected: BTreeMap<(Commitment, &str), usize> = [
        ((Commitment::NoImmigrationEnforcement, "prohibited_uses"), 358),
        ((Commitment::NoFederalSharing, "access_policy"), 1),
        ((Commitment::LawEnforcementOnly, "prohibited_uses"), 6),
        ((Commitment::LawEnforcementOnly, "access_policy"), 3),
        ((Commitment::LawEnforcementOnly, "acceptable_use_policy"), 354),
        ((Commitment::OwnAgencyOnly, "access_policy"), 2),
    ]
    .into_iter()
    .collect();
    assert_eq!(by, expected);
    // Nobody published an in-state-only promise.
    assert!(pf.policies.iter().all(|p| p.promises.iter().all(|q| q.commitment != Commitment::InStateOnly)));
    // Ferndale MI PD: "can only be used by local or state law enforcement personnel".
    let ferndale = pf.policies.iter().find(|p| p.agency == "Ferndale MI PD").unwrap();
    assert!(ferndale.promises.iter().any(|q| q.commitment == Commitment::NoFederalSharing
        && q.phrase.ends_with("can only be used by local or state law enforcement personnel")));
    // Rossford OH PD's latest version (2023-12-06) no longer lists immigration enforcement.
    let rossford = pf.policies.iter().find(|p| p.agency == "Rossford OH PD").unwrap();
    assert_eq!(rossford.updated.as_deref(), Some("2023-12-06T19:53:33Z"));
    assert!(rossford.promises.iter().all(|q| q.commitment != Commitment::NoImmigrationEnforcement));
    assert!(pf.stats.notes.iter().any(|n| n.starts_with("Rossford OH PD: 3 versions; the latest (2023-12-06, line 300) is used; earlier versions also promised what it no longer does: no_immigration_enforcement")), "{:?}", pf.stats.notes);
    // A row that lost its line break is kept as text and noted.
    assert!(pf
        .stats
        .notes
        .iter()
        .any(|n| n.starts_with("line 301: Lakewood WA PD's hotlist_policy cell looks like another CSV record")));
}

#[test]
fn sharing_that_contradicts_the_published_policy() {
    let dir = Directory::builtin().unwrap();
    let pf = policies();
    let mut findings = Vec::new();
    let report =
        policy_practice::audit_file(&data("sharing/flock-agency-access-2024-04-26.csv"), &pf, &dir, &mut |f| {
            findings.push(f)
        })
        .unwrap();
    assert_eq!((report.stats.read, report.stats.kept, report.stats.rejected.len()), (37099, 37099, 0));
    assert_eq!(report.stats.findings as usize, findings.len());
    // 222 policies by exact name, two by a directory entry (the same portal id under two names).
    assert_eq!(report.matched.len(), 224);
    assert_eq!(
        report.matched["San Leandro PD CA"],
        ("San Leandro CA PD".into(), "directory entry san-leandro-pd".into())
    );
    assert_eq!(report.matched.values().filter(|(_, how)| how == "exact name").count(), 222);
    assert_eq!(report.unmatched.len(), 144);
    assert!(report.unmatched.contains(&"Ferndale MI PD".to_owned()), "Ferndale shares nothing in this list");
    assert!(report.stats.notes.iter().any(|n| n.starts_with("144 of 368 published policies match no source agency")));
    // Every finding, by agency and rule (each checked by hand against both files).
    let mut by: BTreeMap<(&str, &str, Severity), usize> = BTreeMap::new();
    for f in &findings {
        assert_eq!(f.kind, Kind::PolicyContradiction);
        *by.entry((agency(f), f.rule, f.severity)).or_default() += 1;
    }
    let le = "policy.law_enforcement_only";
    let expected: BTreeMap<(&str, &str, Severity), usize> = [
        // "The system may only be accessed by Kent Police officers": 127 other agencies have access.
        (("Kent WA PD", "policy.own_agency_only", Severity::Medium), 127),
        // "All system access requires an individual to be a member of the police department": 108.
        (("Yakima WA PD", "policy.own_agency_only", Severity::Medium), 108),
        // "Data is used for law enforcement purposes only", and a vendor, demo or test account, a
        // utility, a research centre or a university's (unsworn) campus safety office has access.
        (("Champaign IL PD", le, Severity::Low), 1),
        (("Costa Mesa CA PD", le, Severity::Low), 3),
        (("Danville CA PD", le, Severity::Low), 3),
        (("Fairfield CA PD", le, Severity::Low), 2),
        (("Flock Safety - Sales", le, Severity::Low), 36),
        (("Lincoln CA PD", le, Severity::Low), 2),
        (("Maple Bluff WI PD", le, Severity::Low), 1),
        (("Pacific Grove CA PD", le, Severity::Low), 1),
        (("Pittsboro IN PD", le, Severity::Low), 4),
        (("Redwood City CA PD", le, Severity::Low), 1),
        (("San Jose CA PD", le, Severity::Low), 1),
        (("Santa Clara CA PD", le, Severity::Low), 1),
        (("Seaside CA PD", le, Severity::Low), 1),
        (("Wichita KS PD", le, Severity::Low), 1),
        (("Wright City MO PD", le, Severity::Low), 1),
        (("Yakima WA PD", le, Severity::Low), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(by, expected);
    assert_eq!(findings.len(), 295);
    // The evidence quotes the published words and the directory's reading of the recipient; the
    // citation is the agency's published policy with its date.
    let kent = findings
        .iter()
        .find(|f| {
            agency(f) == "Kent WA PD"
                && matches!(&f.subject, Subject::Sharing { counterparty, .. } if counterparty == "FBI")
        })
        .unwrap();
    assert_eq!(
        kent.evidence,
        "published access policy: \"The system may only be accessed by Kent Police officers who have been trained in its use, \
         for official and legitimate law enforcement purposes, and for a valid reason associated with an official case report \
         or investigation\"; shares with another agency: FBI => US federal (directory entry fbi); practice concern (the \
         agency's own published policy, not a statute)"
    );
    assert_eq!(
        kent.citation,
        "Kent WA PD's published ALPR policy (updated 2023-08-18): https://transparency.flocksafety.com/kent-wa-pd"
    );
    let pg = findings.iter().find(|f| agency(f) == "Pacific Grove CA PD").unwrap();
    assert_eq!(
        pg.subject,
        Subject::Sharing {
            agency: "Pacific Grove CA PD".into(),
            counterparty: "Santa Clara University Campus Safety (Raven)".into()
        }
    );
    assert!(pg.evidence.starts_with("published acceptable use policy: \"Data is used for law enforcement purposes only\"; shares with a private account, not a law enforcement agency: "), "{}", pg.evidence);
    // Negative cases. El Cajon CA PD shares with 96 out-of-state or federal recipients (SB 34,
    // `sharing.ca_sb34.*`), but its published policy promises nothing about states: no
    // contradiction. Private police departments (a railroad's, a university's) are law enforcement.
    assert!(findings.iter().all(|f| agency(f) != "El Cajon CA PD"));
    assert!(findings.iter().filter(|f| f.rule == le).all(|f| !matches!(&f.subject, Subject::Sharing { counterparty, .. } if counterparty == "Union Pacific Railroad PD" || counterparty == "University of Chicago PD")));
    assert!(report.stats.notes.iter().any(|n| n.starts_with("14 shares with private police departments")));
    // No agency of the list that prohibits immigration enforcement shares with an immigration
    // agency (the list has none); sharing with federal agencies that do not enforce immigration law
    // is noted, not flagged.
    assert!(findings.iter().all(|f| f.rule != "policy.no_immigration_enforcement"));
    assert!(report
        .stats
        .notes
        .iter()
        .any(|n| n
            .starts_with("116 agencies whose policy prohibits immigration enforcement share with federal agencies")));
}

#[test]
fn an_immigration_recipient_contradicts_the_published_prohibition() {
    // The real policies, and a sharing list of three rows that are not in the real one.
    let dir = Directory::builtin().unwrap();
    let pf = policies();
    let csv = "src_agency,external_agency\nAtherton CA PD,ICE ERO\nKent WA PD,HSI Seattle\nRossford OH PD,ICE ERO\n";
    let mut findings = Vec::new();
    policy_practice::audit("list.csv".as_ref(), csv.as_bytes(), &pf, &dir, &mut |f| findings.push(f)).unwrap();
    let got: Vec<(&str, &str, Severity)> = findings.iter().map(|f| (agency(f), f.rule, f.severity)).collect();
    assert_eq!(
        got,
        [
            ("Atherton CA PD", "policy.no_immigration_enforcement", Severity::High),
            // Kent prohibits civil immigration enforcement only: medium.
            ("Kent WA PD", "policy.no_immigration_enforcement", Severity::Medium),
            ("Kent WA PD", "policy.own_agency_only", Severity::Medium),
            // Rossford's latest policy dropped the prohibition: nothing to contradict.
        ]
    );
    assert!(findings[0].evidence.starts_with(
        "published prohibited uses: \"Immigration enforcement\"; shares with an immigration-enforcement agency: ICE ERO => US federal DHS/ICE immigration"
    ), "{}", findings[0].evidence);
    assert_eq!(findings[0].citation, "Atherton CA PD's published ALPR policy (updated 2023-07-27): https://transparency.flocksafety.com/atherton-ca-pd");
}
