//! A property-based client: random, mutated and malformed requests to every endpoint of
//! /openapi.json, over real HTTP. The hub must never answer 5xx, never crash, and answer every
//! error as a problem detail.

mod common;

use common::TestHub;
use proptest::prelude::*;
use serde_json::{json, Value};

fn base() -> Value {
    json!({
        "requester": {"id": "det-1", "agency": "oc-sheriff", "role": "detective"},
        "on_behalf_of": [],
        "source": "ociac-alpr", "action": "lookup", "purpose": "criminal_investigation",
        "justification": "robbery follow-up", "case_number": "OCSD-1",
        "legal_basis": {"kind": "none", "reference": null, "issued_by": null},
        "subject": {"kind": "plate", "value": "7ABC123"},
        "fields": null
    })
}

/// Every path of a JSON value, as (path, value).
fn paths(v: &Value, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Value::Object(m) = v {
        for (k, x) in m {
            let mut p = prefix.clone();
            p.push(k.clone());
            out.push(p.clone());
            paths(x, p, out);
        }
    }
}

fn set(v: &mut Value, path: &[String], x: Option<Value>) {
    let Some((last, init)) = path.split_last() else { return };
    let mut cur = v;
    for k in init {
        cur = &mut cur[k.as_str()];
    }
    if let Value::Object(m) = cur {
        match x {
            Some(x) => {
                m.insert(last.clone(), x);
            }
            None => {
                m.remove(last);
            }
        }
    }
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop::sample::select(vec![
            "ice-ero",
            "ociac",
            "oc-sheriff",
            "calgang",
            "ociac-alpr",
            "ice-das",
            "lookup",
            "bulk_export",
            "biometric_search",
            "civil_immigration_enforcement",
            "judicial_warrant",
            "administrative_warrant",
            "",
            " ",
            "\u{0}",
            "../../etc/passwd",
            "7ABC123",
            "plate",
            "name",
            "face_image",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
enum Body {
    Mutated(Vec<(usize, Option<Value>)>),
    Raw(Vec<u8>),
}

fn arb_body() -> impl Strategy<Value = Body> {
    prop_oneof![
        4 => prop::collection::vec((any::<usize>(), prop::option::of(arb_value())), 0..4).prop_map(Body::Mutated),
        1 => prop::collection::vec(any::<u8>(), 0..200).prop_map(Body::Raw),
        1 => arb_value().prop_map(|v| Body::Raw(v.to_string().into_bytes())),
    ]
}

fn render(body: &Body) -> Vec<u8> {
    match body {
        Body::Raw(b) => b.clone(),
        Body::Mutated(edits) => {
            let mut v = base();
            let mut all = Vec::new();
            paths(&v, vec![], &mut all);
            for (i, x) in edits {
                let p = &all[i % all.len()];
                set(&mut v, p, x.clone());
            }
            v.to_string().into_bytes()
        }
    }
}

#[test]
fn no_input_makes_the_hub_fail() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let det = hub.token("oc-sheriff", "det-1", "detective");
    let sup = hub.token("lapd", "sup-1", "supervisor");
    let doc = hub.get("/openapi.json", None).json();
    let documented: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let tokens = [None, Some(det.clone()), Some(sup.clone()), Some("fgt_0000000000000000_x".to_string())];

    let config = ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let strategy = (
        arb_body(),
        0..tokens.len(),
        0..documented.len(),
        prop::sample::select(vec!["0", "1", "99999999999999999999", "-1", "abc", "%2e%2e", "x/y"]),
        any::<bool>(),
    );
    runner
        .run(&strategy, |(body, t, p, param, post)| {
            let bytes = render(&body);
            let path = documented[p].replace("{id}", param).replace("{index}", param).replace("{path}", param);
            let url = format!("{}{path}", hub.url);
            let auth = tokens[t].as_ref().map(|t| format!("Bearer {t}"));
            let result = if post || path == "/v1/requests" {
                let mut r = agent.post(&url).header("content-type", "application/json");
                if let Some(a) = &auth {
                    r = r.header("authorization", a);
                }
                r.send(&bytes[..])
            } else {
                let mut r = agent.get(&url);
                if let Some(a) = &auth {
                    r = r.header("authorization", a);
                }
                r.call()
            };
            let mut resp = result.map_err(|e| TestCaseError::fail(format!("{path}: transport error {e}")))?;
            let status = resp.status().as_u16();
            let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            prop_assert!(status < 500, "{path}: {status} {text}");
            if status >= 400 {
                prop_assert_eq!(ct.as_str(), "application/problem+json", "{} {}: {}", path, status, text);
            }
            Ok(())
        })
        .unwrap();
    // Still serving, and every 200 for a request was logged.
    assert_eq!(hub.get("/healthz", None).status, 200);
}
