//! Fail closed: unknown ids, vocabulary, fields and obligations, evaluation errors and bad policy
//! files all end in a denial or a load error that names what is wrong.

mod common;

use std::sync::Arc;

use model::Outcome;
use policy::{Engine, LawLibrary};

fn deny_code(json: &str) -> String {
    let d = common::engine().decide(&common::request(json));
    assert_eq!(d.decision, Outcome::Deny, "{d:?}");
    d.reasons[0].policy.clone()
}

#[test]
fn the_lawful_request_is_permitted() {
    let d = common::engine().decide(&common::request(common::LAWFUL));
    assert_eq!(d.decision, Outcome::Permit, "{d:?}");
    assert_eq!(d.policy_digest.len(), 64);
}

#[test]
fn unknown_ids_and_vocabulary_deny_by_name() {
    let cases = [
        (r#""agency": "oc-sheriff""#, r#""agency": "oc-sherif""#, "fusionguard:unknown-agency"),
        (r#""source": "ociac-alpr""#, r#""source": "ociac-alpr2""#, "fusionguard:unknown-source"),
        (r#""action": "lookup""#, r#""action": "scrape""#, "fusionguard:unknown-action"),
        (r#""purpose": "criminal_investigation""#, r#""purpose": "curiosity""#, "fusionguard:unknown-purpose"),
        (r#""kind": "none""#, r#""kind": "pinky_promise""#, "fusionguard:unknown-legal-basis"),
    ];
    for (from, to, code) in cases {
        let json = common::LAWFUL.replacen(from, to, 1);
        assert_ne!(json, common::LAWFUL);
        assert_eq!(deny_code(&json), code, "{to}");
    }
    let d = common::engine().decide(&common::request(&common::LAWFUL.replacen("\"oc-sheriff\"", "\"oc-sherif\"", 1)));
    assert!(d.reasons[0].summary.contains("\"oc-sherif\""), "the reason names the unknown id: {d:?}");
}

#[test]
fn an_unknown_agency_anywhere_in_the_chain_denies() {
    let json = common::LAWFUL.replacen(
        r#""source""#,
        r#""on_behalf_of": [{"id": "x", "agency": "ghost-agency"}], "source""#,
        1,
    );
    assert_eq!(deny_code(&json), "fusionguard:unknown-agency");
}

#[test]
fn a_field_the_source_lacks_denies() {
    let json = common::LAWFUL.replacen(r#""source""#, r#""fields": ["plate", "ssn"], "source""#, 1);
    assert_eq!(deny_code(&json), "fusionguard:unknown-field");
}

#[test]
fn an_obligation_the_hub_cannot_carry_out_denies() {
    // The lawful ALPR lookup carries record_dissemination; a hub that cannot record must not release.
    let engine = common::engine().with_supported_obligations(&["redact", "release_only"]);
    let d = engine.decide(&common::request(common::LAWFUL));
    assert_eq!(d.decision, Outcome::Deny);
    assert_eq!(d.reasons[0].policy, "fusionguard:unsupported-obligation");
    assert!(d.reasons[0].summary.contains("record_dissemination"), "{d:?}");
}

fn library_with(extra_file: &str, text: &str) -> Result<LawLibrary, policy::LibraryError> {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&common::repo().join("laws"), dir.path());
    let path = dir.path().join(extra_file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    LawLibrary::load(dir.path())
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

const HEADER: &str = "@id(\"us-test-erroring-forbid\")\n@citation(\"Test\")\n@summary(\"A forbid that errors at run time.\")\n@jurisdiction(\"US\")\n@side(\"owner\")\n@categories(\"*\")\n@effective(\"2000-01-01\")\n@verified(\"unverified: a test policy\")\n";

#[test]
fn a_policy_that_errors_at_run_time_denies_instead_of_being_skipped() {
    // Validates statically but overflows at run time; Cedar would skip this forbid and allow.
    let text = format!("{HEADER}forbid (principal, action, resource) when {{ 9223372036854775807 + (if context.has_case_number then 1 else 0) > 0 }};\n");
    let library = Arc::new(library_with("us/erroring.cedar", &text).expect("valid under the schema"));
    let deployment = model::Deployment::load(&common::repo().join("examples/seed-world")).unwrap();
    let engine = Engine::new(library, deployment).unwrap();
    let d = engine.decide(&common::request(common::LAWFUL));
    assert_eq!(d.decision, Outcome::Deny, "{d:?}");
    assert_eq!(d.reasons[0].policy, "fusionguard:evaluation-error");
    assert!(d.reasons[0].summary.contains("overflow"), "{d:?}");
}

#[test]
fn bad_policy_files_are_refused_with_file_and_position() {
    let err = library_with("us/broken.cedar", "permit (principal, action, resource)\nwhen { context.purpose == };\n")
        .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("us/broken.cedar:2:"), "{text}");

    let no_citation = "@id(\"us-x\")\n@summary(\"S.\")\n@jurisdiction(\"US\")\n@side(\"owner\")\n@categories(\"*\")\npermit (principal, action, resource);\n";
    let text = library_with("us/x.cedar", no_citation).unwrap_err().to_string();
    assert!(text.contains("us/x.cedar") && text.contains("missing @citation"), "{text}");

    let unknown_obligation =
        format!("{HEADER}@obligation(\"shred:everything\")\npermit (principal, action, resource);\n");
    let text = library_with("us/x.cedar", &unknown_obligation).unwrap_err().to_string();
    assert!(text.contains("unknown obligation \"shred:everything\""), "{text}");

    let wrong_folder = HEADER.replace("\"US\"", "\"US-CA\"") + "permit (principal, action, resource);\n";
    let text = library_with("us/x.cedar", &wrong_folder).unwrap_err().to_string();
    assert!(text.contains("belongs in folder \"us-ca\""), "{text}");

    let ill_typed = format!("{HEADER}permit (principal, action, resource) when {{ principal.shoe_size > 3 }};\n");
    let text = library_with("us/x.cedar", &ill_typed).unwrap_err().to_string();
    assert!(text.contains("schema validation failed") && text.contains("us-test-erroring-forbid"), "{text}");

    // Every policy says from when it applies and how far it was checked against the law.
    for (annotation, expected) in [
        ("@effective(\"2000-01-01\")\n", "missing @effective"),
        ("@verified(\"unverified: a test policy\")\n", "missing @verified"),
    ] {
        let text = HEADER.replace(annotation, "") + "permit (principal, action, resource);\n";
        let text = library_with("us/x.cedar", &text).unwrap_err().to_string();
        assert!(text.contains("us/x.cedar") && text.contains(expected), "{text}");
    }
    for (bad, expected) in [
        ("@effective(\"2000-02-30\")", "not a day of the calendar"),
        ("@effective(\"1 July 2026\")", "YYYY-MM-DD"),
        ("@verified(\"text 2026-12-06\")", "needs the address"),
        ("@verified(\"text yesterday https://example.org\")", "YYYY-MM-DD"),
        ("@verified(\"looks right\")", "unverified: WHAT IS MISSING"),
        ("@verified(\"unverified:\")", "unverified: WHAT IS MISSING"),
    ] {
        let field = if bad.starts_with("@effective") {
            "@effective(\"2000-01-01\")"
        } else {
            "@verified(\"unverified: a test policy\")"
        };
        let text = HEADER.replace(field, bad) + "permit (principal, action, resource);\n";
        let text = library_with("us/x.cedar", &text).unwrap_err().to_string();
        assert!(text.contains(expected), "{bad}: {text}");
    }
    let lapses_first = format!("{HEADER}@expires(\"1999-12-31\")\npermit (principal, action, resource);\n");
    let text = library_with("us/x.cedar", &lapses_first).unwrap_err().to_string();
    assert!(text.contains("@expires must be after @effective"), "{text}");

    let duplicate = HEADER.replace("us-test-erroring-forbid", "us-dppa-2721-b1-agency-function")
        + "permit (principal, action, resource);\n";
    let text = library_with("us/x.cedar", &duplicate).unwrap_err().to_string();
    assert!(text.contains("already used"), "{text}");
}
