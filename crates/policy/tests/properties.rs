//! Properties over many requests: the parser never panics; slicing never changes a decision; the
//! originator rule never lets a chain get more than any of its agencies alone.

mod common;

use model::{ChainLink, Date, Outcome, Request};
use policy::scenarios::comparable;
use policy::Slicing;
use proptest::prelude::*;

fn rank(o: Outcome) -> u8 {
    match o {
        Outcome::Permit => 0,
        Outcome::Review => 1,
        Outcome::Deny => 2,
    }
}

/// Today, and the days on each side of every date a policy takes effect or lapses.
fn law_dates(engine: &policy::Engine) -> Vec<Date> {
    let mut dates = vec![Date::today()];
    for p in engine.library().policies() {
        for d in std::iter::once(p.effective).chain(p.expires) {
            dates.extend([d, Date::from_days(d.days() - 1)]);
        }
    }
    dates.sort();
    dates.dedup();
    dates
}

#[test]
fn sliced_and_unsliced_decisions_agree_on_a_large_mix_on_every_law_date() {
    let engine = common::engine();
    let dates = law_dates(&engine);
    assert!(dates.len() > 10, "the library's policies take effect on several days");
    for (n, r) in policy::bench::request_mix(engine.deployment(), 3000, 7).into_iter().enumerate() {
        let date = dates[n % dates.len()];
        let (a, b) = (engine.decide_with(&r, Slicing::Sliced, date), engine.decide_with(&r, Slicing::Unsliced, date));
        assert_eq!(comparable(&a), comparable(&b), "request {r:?} on {date}");
    }
}

#[test]
fn a_statute_is_cited_before_a_model_agreement() {
    let engine = common::engine();
    let templates: Vec<&str> =
        engine.library().policies().iter().filter(|p| p.is_template()).map(|p| p.id.as_str()).collect();
    let mut both = 0;
    for r in policy::bench::request_mix(engine.deployment(), 3000, 13) {
        let d = engine.decide(&r);
        let is_template: Vec<bool> = d.reasons.iter().map(|x| templates.contains(&x.policy.as_str())).collect();
        if let Some(first_template) = is_template.iter().position(|t| *t) {
            assert!(is_template[first_template..].iter().all(|t| *t), "statutes after a template in {:?}", d.reasons);
            both += usize::from(first_template > 0);
        }
    }
    assert!(both > 0, "the mix has decisions citing both a statute and a template");
}

#[test]
fn a_law_decides_only_from_its_effective_day() {
    let engine = common::engine();
    let mut checked = 0;
    for r in policy::bench::request_mix(engine.deployment(), 3000, 17) {
        let today = engine.decide(&r);
        for reason in &today.reasons {
            let Some(p) = engine.library().policies().iter().find(|p| p.id == reason.policy) else { continue };
            let before = engine.decide_on(&r, Date::from_days(p.effective.days() - 1));
            assert!(!before.cites_policy(&p.id), "{} cited the day before {}", p.id, p.effective);
            checked += 1;
        }
    }
    assert!(checked > 100);
}

#[test]
fn a_chain_is_never_more_permissive_than_any_of_its_agencies() {
    let engine = common::engine();
    for r in policy::bench::request_mix(engine.deployment(), 1500, 11).into_iter().filter(|r| r.is_forwarded()) {
        let chained = engine.decide(&r);
        let alone = Request { on_behalf_of: vec![], ..r.clone() };
        let originator = Request {
            requester: model::Requester { agency: r.on_behalf_of[0].agency.clone(), ..r.requester.clone() },
            on_behalf_of: Vec::<ChainLink>::new(),
            ..r.clone()
        };
        for single in [alone, originator] {
            let d = engine.decide(&single);
            assert!(
                rank(chained.decision) >= rank(d.decision),
                "chain {:?} vs {:?} for {r:?}",
                chained.decision,
                d.decision
            );
        }
    }
}

fn vocab_or_garbage(values: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![4 => proptest::sample::select(values).prop_map(str::to_string), 1 => "[a-z_\\-]{0,12}"]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_request_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Request::from_json_slice(&bytes);
    }

    #[test]
    fn the_parser_never_panics_on_near_valid_json(cut in 0usize..400, junk in "[\\{\\}\\[\\]\",:a-z0-9 ]{0,8}") {
        let mut text = common::LAWFUL.to_string();
        let at = cut.min(text.len());
        text.insert_str(at, &junk);
        if let Err(e) = Request::from_json_str(&text) {
            prop_assert!(e.line >= 1 && !e.message.is_empty());
        }
    }

    #[test]
    fn any_parsed_request_gets_a_decision_and_unknowns_are_denied(
        agency in vocab_or_garbage(&["lapd", "ice-ero", "fbi", "ociac", "tx-dps", "flock-safety", "vic"]),
        source in vocab_or_garbage(&["ociac-alpr", "ca-dmv-photos", "nj-rms", "il-alpr", "calgang", "ice-das"]),
        action in vocab_or_garbage(model::vocab::ACTIONS),
        purpose in vocab_or_garbage(model::vocab::PURPOSES),
        basis in vocab_or_garbage(model::vocab::LEGAL_BASIS_KINDS),
        justification in ".{0,80}",
        case in proptest::option::of("[A-Z0-9\\-]{0,10}"),
    ) {
        let engine = common::shared();
        let r = Request {
            requester: model::Requester { id: "u".into(), agency: agency.clone(), role: "analyst".into() },
            on_behalf_of: vec![],
            source: source.clone(),
            action: action.clone(),
            purpose: purpose.clone(),
            justification,
            case_number: case,
            legal_basis: model::LegalBasis { kind: basis.clone(), reference: None, issued_by: None },
            subject: model::Subject { kind: "plate".into(), value: "X".into() },
            fields: None,
            certifications: vec![],
        };
        let d = engine.decide(&r);
        let known = engine.deployment().agency(&agency).is_some()
            && engine.deployment().source(&source).is_some()
            && model::vocab::is_known(model::vocab::ACTIONS, &action)
            && model::vocab::is_known(model::vocab::PURPOSES, &purpose)
            && model::vocab::is_known(model::vocab::LEGAL_BASIS_KINDS, &basis);
        if !known {
            prop_assert_eq!(d.decision, Outcome::Deny);
            prop_assert!(d.reasons[0].policy.starts_with("fusionguard:unknown-"));
        }
        prop_assert!(!d.reasons.is_empty());
    }
}
