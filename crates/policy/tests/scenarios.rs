//! The law library's scenario files, run as a test: every case decides as expected, every policy
//! fires in some case and stays silent in another, sliced and unsliced decisions agree.

mod common;

#[test]
fn every_scenario_passes_and_every_policy_is_covered_both_ways() {
    let engine = common::engine();
    let report =
        policy::scenarios::run(&engine, &common::repo().join("laws"), model::Date::today()).expect("scenarios load");
    let failed: Vec<String> =
        report.failed().map(|r| format!("{} :: {}: {}", r.file.display(), r.name, r.failures.join("; "))).collect();
    assert!(failed.is_empty(), "failing scenarios:\n{}", failed.join("\n"));
    let uncovered: Vec<&String> = report.uncovered().map(|(id, _)| id).collect();
    assert!(uncovered.is_empty(), "policies not covered both ways: {uncovered:?}");
    assert!(report.results.len() >= 50, "expected the full scenario set, found {}", report.results.len());
}

#[test]
fn the_twelve_public_record_scenarios_are_present() {
    let cases = policy::scenarios::load_cases(&common::repo().join("laws")).unwrap();
    let public: Vec<_> = cases.iter().filter(|(f, _)| f.to_string_lossy() == "public-record.cases.json").collect();
    assert_eq!(public.len(), 12);
    for (n, (_, case)) in public.iter().enumerate() {
        assert!(case.name.starts_with(&format!("{}. ", n + 1)), "case {} is {:?}", n + 1, case.name);
        assert!(case.record.is_some(), "case {:?} must name its public record", case.name);
    }
}

#[test]
fn every_policy_cites_a_section_and_every_jurisdiction_of_the_issue_is_covered() {
    let engine = common::engine();
    let library = engine.library();
    for p in library.policies() {
        assert!(!p.citation.is_empty() && !p.summary.is_empty(), "{}", p.id);
    }
    let citations: String = library.policies().iter().map(|p| p.citation.as_str()).collect::<Vec<_>>().join("\n");
    for needle in [
        "7284.6",
        "1798.90.55",
        "12801.9",
        "11, § 776.4",
        "5 ILCS 805",
        "625 ILCS 5/2-130",
        "RCW 43.17.425",
        "RCW 10.93.160",
        "201(12)",
        "24-74-103",
        "24-74-104",
        "24-74-105",
        "2018-6",
        "ORS 180.805",
        "ORS 181A.826",
        "940 CMR 37.04",
        "Boston Trust Act",
        "Phila. Exec. Order",
        "No. 166",
        "28 C.F.R. § 23.20",
        "18 U.S.C. § 2721",
        "8 U.S.C. § 1373",
        "Model Data-Sharing Agreement",
        "Model Fusion Center Charter",
        // The laws of 2025 and 2026 and the corrections of issue 14.
        "625 ILCS 5/6-110.3",
        "Educ. Code",
        "1232g",
        "24-18-307",
        "181A.823",
        "20 V.S.A. § 4651(b)(2)",
        "20 V.S.A. § 4652",
        "2.2-5517",
        "6002",
        "1516",
        "N.M. Driver Privacy and Safety Act",
        "201(12)(b)",
    ] {
        assert!(citations.contains(needle), "no policy cites {needle}");
    }
}
