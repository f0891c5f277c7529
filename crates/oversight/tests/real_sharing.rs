//! The sharing list in `../shared/data/sharing`, resolved through the directory and checked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use oversight::directory::Directory;
use oversight::{Finding, Kind, Subject};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel)
}

#[test]
fn california_agencies_sharing_out_of_state_or_federal() {
    let dir = Directory::builtin().unwrap();
    let mut findings: Vec<Finding> = Vec::new();
    let report = oversight::sharing::audit_file(&data("sharing/flock-agency-access-2024-04-26.csv"), &dir, &mut |f| {
        findings.push(f)
    })
    .unwrap();
    assert_eq!((report.stats.read, report.stats.kept, report.stats.rejected.len()), (37099, 37099, 0));
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    let mut ca: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &findings {
        *by_rule.entry(f.rule).or_default() += 1;
        if f.rule == "sharing.ca_sb34.federal" || f.rule == "sharing.ca_sb34.out_of_state" {
            let Subject::Sharing { agency, counterparty } = &f.subject else { panic!() };
            ca.entry(agency.clone()).or_default().insert(format!("{} [{}]", counterparty, f.rule));
        }
    }
    let expected_rules: BTreeMap<&str, usize> = [
        ("sharing.ca_sb34.federal", 29),
        ("sharing.ca_sb34.non_public", 15),
        ("sharing.ca_sb34.out_of_state", 253),
        ("sharing.il_2_130.non_public", 4),
        ("sharing.il_2_130.out_of_state", 120),
        ("sharing.non_public", 55),
        ("sharing.unresolved_recipient", 43),
    ]
    .into_iter()
    .collect();
    assert_eq!(by_rule, expected_rules);
    // The California agencies that share out of state or with federal agencies, each with the
    // directory's resolution and the number of such recipients.
    let found: Vec<(String, usize)> =
        ca.iter().map(|(a, set)| (report.resolutions[a].to_string(), set.len())).collect();
    let expected: Vec<(String, usize)> = [
        ("Barstow CA PD", 2),
        ("Brawley CA PD", 9),
        ("Campbell CA PD", 3),
        ("Cathedral City CA PD", 9),
        ("City of Riverside CA PD", 2),
        ("El Cajon CA PD", 96),
        ("Hercules CA PD", 2),
        ("Hillsborough CA PD", 2),
        ("Lincoln CA PD", 1),
        ("Menifee CA PD", 30),
        ("Monrovia CA PD", 5),
        ("Morgan Hill CA PD", 1),
        ("Murrieta CA PD", 1),
        ("Napa County CA SO", 3),
        ("Oakley CA PD", 8),
        ("San Joaquin County CA SO", 3),
        ("San Marino CA PD", 1),
        ("Santa Clara CA PD", 5),
        ("Seaside CA PD", 19),
        ("Sequoias Community College District CA PD", 73),
        ("Tracy CA PD", 1),
        ("Upland CA PD", 2),
        ("Vallejo CA PD", 3),
        ("Westminster CA PD", 1),
    ]
    .into_iter()
    .map(|(name, n)| (format!("{name} => CA local (state code \"CA\")"), n))
    .collect();
    assert_eq!(found, expected);
    // The federal recipients of California data, as the directory resolves them.
    let federal: BTreeSet<String> = findings
        .iter()
        .filter(|f| f.rule == "sharing.ca_sb34.federal")
        .map(|f| match &f.subject {
            Subject::Sharing { counterparty, .. } => report.resolutions[counterparty].to_string(),
            _ => unreachable!(),
        })
        .collect();
    let federal: Vec<&str> = federal.iter().map(String::as_str).collect();
    assert_eq!(
        federal,
        vec![
            "ATF Nashville TN => US federal (directory entry atf-nashville)",
            "FBI => US federal (directory entry fbi)",
            "US Postal Inspection Service => US federal (directory entry uspis)",
            "USMS (Inactive) => US federal (directory entry usms)",
        ]
    );
    // A finding carries both resolutions as its evidence, and SB 34 as its citation.
    let f = findings.iter().find(|f| f.rule == "sharing.ca_sb34.federal").unwrap();
    assert_eq!(f.kind, Kind::ForbiddenSharing);
    assert!(f.citation.starts_with("Cal. Civ. Code §§ 1798.90.5(f), 1798.90.55(b)"));
    assert!(f.evidence.starts_with("California agency shares with a federal agency; "), "{}", f.evidence);
    // Names the directory cannot resolve are listed, never guessed.
    let unresolved: Vec<String> = report.unresolved().map(|r| r.name.clone()).collect();
    assert_eq!(
        unresolved,
        [
            "Butte County SO",
            "DONT USE - Appalachian State University Police Campus PD",
            "GPC",
            "Lincoln County SO PD",
            "Lynne Drake",
            "Miami Dade (Duplicate don't use)",
            "Public Service Authority",
            "fxgsoc",
        ]
    );
    assert!(unresolved.contains(&"Butte County SO".to_owned()), "Butte County exists in CA, ID and SD");
    assert_eq!(report.resolutions.len(), 4620);
    // Recipients the directory knows by a state's full name or as an institution (they were
    // unresolved before; Python over the file: 30 such names, 10 rows from California or Illinois).
    for (name, shown) in [
        ("Texas Southern University PD", "Texas Southern University PD => TX unknown (state name \"texas\")"),
        ("University of Chicago PD", "University of Chicago PD => IL private (directory entry uchicago-pd)"),
        (
            "Niagara Frontier Transit Authority (NFTA) PD",
            "Niagara Frontier Transit Authority (NFTA) PD => NY local (directory entry nfta-pd)",
        ),
        ("MS Office of Homeland Security", "MS Office of Homeland Security => MS unknown (state code \"MS\")"),
    ] {
        assert_eq!(report.resolutions[name].to_string(), shown);
    }
    // El Cajon's new out-of-state recipient, and Illinois agencies sharing with a private university.
    assert!(
        ca["El Cajon CA PD"].contains("Niagara Frontier Transit Authority (NFTA) PD [sharing.ca_sb34.out_of_state]")
    );
    let il_private: BTreeSet<String> =
        findings.iter().filter(|f| f.rule == "sharing.il_2_130.non_public").map(|f| f.subject.label()).collect();
    assert!(il_private.contains("Roselle IL PD -> University of Chicago PD"), "{il_private:?}");
    // No recipient of the list is an immigration agency; a state homeland security office is not one.
    assert!(!by_rule.contains_key("sharing.dhs_recipient"));
}
