//! The public transparency page over real HTTP: a known set of requests (the twelve public-record
//! scenarios, held requests approved and denied, a refused impersonation) goes through a real hub;
//! `/v1/transparency` must count exactly what the hub answered, equal the report an auditor
//! computes from the data directory (`oversight::transparency`, as `fusionguard report
//! transparency` does), and `/transparency` must be that report's page, in English and in Spanish
//! (with the same numbers). No personal data appears.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{alpr, repo, TestHub};
use serde_json::{json, Value};

/// Expected counts, tallied from the requests sent and the hub's answers (not from the ledger).
#[derive(Default)]
struct Tally {
    rows: BTreeMap<(String, String), [u64; 6]>,
    counts: BTreeMap<(String, String), u64>,
}

const MEASURES: [&str; 6] = ["requests", "permit", "deny", "review", "approved_on_review", "denied_on_review"];

impl Tally {
    fn add(&mut self, table: &str, key: &str, slot: usize) {
        let r = self.rows.entry((table.to_string(), key.to_string())).or_default();
        if slot <= 3 {
            r[0] += 1;
        }
        if slot > 0 {
            r[slot] += 1;
        }
    }
    fn count(&mut self, list: &str, key: &str) {
        *self.counts.entry((list.to_string(), key.to_string())).or_default() += 1;
    }
}

fn find<'a>(report: &'a Value, path: &str, key: &str) -> &'a Value {
    let mut v = report;
    for p in path.split('.') {
        v = &v[p];
    }
    v.as_array()
        .unwrap_or_else(|| panic!("{path} is not a list"))
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("{path} has no row {key:?}: {v:#}"))
}

fn list_len(report: &Value, path: &str) -> usize {
    let mut v = report;
    for p in path.split('.') {
        v = &v[p];
    }
    v.as_array().map_or(0, Vec::len)
}

#[test]
fn the_page_counts_exactly_what_the_hub_decided() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path());
    let deployment = model::Deployment::load(&repo().join("examples/seed-world")).unwrap();
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(repo().join("laws/public-record.cases.json")).unwrap()).unwrap();
    let mut t = Tally::default();
    let mut secrets: Vec<String> = Vec::new();
    let mut totals = [0u64; 4]; // requests, permit, deny, review
    let mut outside = [0u64; 2]; // requests, released
    let mut entries = 0u64;
    let mut releases = (0u64, 0u64); // all, with obligations

    let mut decide = |req: &Value, token: &str, t: &mut Tally, secrets: &mut Vec<String>| -> Value {
        let reply = hub.post("/v1/requests", Some(token), &req.to_string());
        assert_eq!(reply.status, 200, "{}", reply.text);
        let body = reply.json();
        entries += 1;
        let decision = body["decision"].as_str().unwrap().to_string();
        let slot = match decision.as_str() {
            "permit" => 1,
            "deny" => 2,
            _ => 3,
        };
        totals[0] += 1;
        totals[slot] += 1;
        let source = deployment.source(req["source"].as_str().unwrap()).unwrap();
        let agency = req["requester"]["agency"].as_str().unwrap();
        let mut keys = vec![
            ("uses.by_source", source.id.clone()),
            ("uses.by_data_type", source.category.clone()),
            ("uses.by_action", req["action"].as_str().unwrap().to_string()),
            ("uses.by_purpose", req["purpose"].as_str().unwrap().to_string()),
            ("uses.by_legal_basis", req["legal_basis"]["kind"].as_str().unwrap().to_string()),
        ];
        if agency != source.owner {
            keys.push(("sharing.by_recipient", agency.to_string()));
            keys.push(("sharing.by_recipient_kind", deployment.agency(agency).unwrap().kind.as_str().to_string()));
            outside[0] += 1;
            if decision == "permit" {
                outside[1] += 1;
            }
        }
        if let Some(first) = req["on_behalf_of"].as_array().and_then(|c| c.first()) {
            if first["agency"] != source.owner.as_str() {
                keys.push(("sharing.by_originator", first["agency"].as_str().unwrap().to_string()));
            }
        }
        for (table, key) in &keys {
            t.add(table, key, slot);
        }
        let mut cited = std::collections::BTreeSet::new();
        for r in body["reasons"].as_array().unwrap() {
            cited.insert(r["policy"].as_str().unwrap().to_string());
        }
        for p in cited {
            match decision.as_str() {
                "deny" => t.count("citations.denials", &p),
                "review" => t.count("citations.reviews", &p),
                _ => {}
            }
        }
        if decision == "permit" {
            releases.0 += 1;
            let obligations = body["obligations"].as_array().unwrap();
            if !obligations.is_empty() {
                releases.1 += 1;
            }
            for o in obligations {
                let o = o.as_str().unwrap();
                t.count("obligations.by_obligation", o);
                t.count("obligations.by_kind", o.split(':').next().unwrap());
            }
        }
        for s in [&req["subject"]["value"], &req["justification"], &req["case_number"], &req["requester"]["id"]] {
            if let Some(s) = s.as_str().filter(|s| s.len() > 3) {
                secrets.push(s.to_string());
            }
        }
        secrets.push(body["decision_id"].as_str().unwrap().to_string());
        secrets.push(token[4..20].to_string());
        body
    };

    for case in &cases {
        let r = &case["request"]["requester"];
        let token = hub.token(r["agency"].as_str().unwrap(), r["id"].as_str().unwrap(), r["role"].as_str().unwrap());
        let body = decide(&case["request"], &token, &mut t, &mut secrets);
        assert_eq!(body["decision"], case["expect"]["decision"]);
    }

    // Three held requests: one approved, one denied, one left pending.
    let det = hub.token("denver-pd", "det-lee", "detective");
    let sup = hub.token("lapd", "sgt-ortiz", "supervisor");
    let held_req = json!({
        "requester": {"id": "det-lee", "agency": "denver-pd", "role": "detective"},
        "source": "calgang", "action": "lookup", "purpose": "criminal_investigation",
        "justification": "Homicide 24-0311: suspect moved from Los Angeles", "case_number": "DPD-24-0311",
        "legal_basis": {"kind": "none"}, "subject": {"kind": "name", "value": "Jane Q. Holdout"}
    });
    let mut held = Vec::new();
    for _ in 0..3 {
        let body = decide(&held_req, &det, &mut t, &mut secrets);
        assert_eq!(body["decision"], "review");
        held.push((body["review"]["id"].as_str().unwrap().to_string(), body["obligations"].clone()));
    }
    for ((id, obligations), verdict, reason) in
        [(&held[0], "approve", "confirmed with the Denver homicide unit"), (&held[1], "deny", "no nexus to California")]
    {
        let body = json!({"decision": verdict, "reason": reason}).to_string();
        let r = hub.post(&format!("/v1/reviews/{id}"), Some(&sup), &body);
        assert_eq!(r.status, 200, "{}", r.text);
        entries += 1;
        secrets.push(reason.to_string());
        let slot = if verdict == "approve" { 4 } else { 5 };
        let calgang = deployment.source("calgang").unwrap();
        for (table, key) in [
            ("uses.by_source", "calgang"),
            ("uses.by_data_type", calgang.category.as_str()),
            ("uses.by_action", "lookup"),
            ("uses.by_purpose", "criminal_investigation"),
            ("uses.by_legal_basis", "none"),
            ("sharing.by_recipient", "denver-pd"),
            ("sharing.by_recipient_kind", deployment.agency("denver-pd").unwrap().kind.as_str()),
        ] {
            t.add(table, key, slot);
        }
        if verdict == "approve" {
            outside[1] += 1;
            releases.0 += 1;
            let obligations = obligations.as_array().unwrap();
            if !obligations.is_empty() {
                releases.1 += 1;
            }
            for o in obligations {
                let o = o.as_str().unwrap();
                t.count("obligations.by_obligation", o);
                t.count("obligations.by_kind", o.split(':').next().unwrap());
            }
            t.count("reviews.verdicts_in_year", "approve");
        } else {
            t.count("reviews.verdicts_in_year", "deny");
        }
    }
    // An impersonation attempt: refused, recorded.
    let ice = hub.token("ice-ero", "ero-officer-9", "deportation_officer");
    let mut forged = held_req.clone();
    forged["subject"]["value"] = json!("Refused Subject Name");
    assert_eq!(hub.post("/v1/requests", Some(&ice), &forged.to_string()).status, 403);
    entries += 1;
    t.count("violations.refused_by_agency", "ice-ero");
    secrets.extend(["Refused Subject Name".to_string(), "ero-officer-9".to_string(), "sgt-ortiz".to_string()]);

    hub.wait_checkpoint(entries);
    // The hub's own view of the checkpoint follows the public file by a moment.
    let year = oversight::time::civil_from_days((hub::tokens::now() / 86_400) as i64).0;
    let page = counted(&hub, year, entries);
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.content_type, "application/json");
    let got = page.json();
    assert_eq!(got["ledger"]["tree_size"], entries);

    // The same numbers as an auditor's report from the data directory.
    let reader = oversight::ledger::LedgerReader::open_data_dir(&hub.data).unwrap();
    assert_eq!(reader.size(), entries);
    let info = oversight::transparency::LedgerInfo::of(&reader);
    let report = oversight::transparency::Report::build_audited(year, info, &deployment, reader.entries()).unwrap();
    assert_eq!(got, serde_json::to_value(&report).unwrap());
    let html = hub.get(&format!("/transparency?year={year}"), None);
    assert_eq!((html.status, html.content_type.as_str()), (200, "text/html; charset=utf-8"));
    let csv_href = format!("/transparency.csv?year={year}");
    // The auditor's page, in English by default, with a link home and to Spanish at the top.
    assert_eq!(without_nav(&html.text), report.html_with_csv(&csv_href));
    assert!(html.text.starts_with("<!DOCTYPE html><html lang=\"en\"><head>"));
    assert!(html.text.contains("<body><nav aria-label=\"Portal and language\"><p><a href=\"/\">"), "{}", html.text);
    assert!(html.text.contains(&format!(
        "<a href=\"/transparency?year={year}&amp;lang=es\" lang=\"es\" hreflang=\"es\">Español</a>"
    )));
    languages(&hub, year, &report, &html.text);
    // Beside every chart, the CSV of its rows; and the whole report's CSV.
    assert!(html.text.matches("class=\"csv\"").count() >= 10);
    let csv = hub.get(&format!("/transparency.csv?year={year}"), None);
    assert_eq!((csv.status, csv.content_type.as_str()), (200, "text/csv; charset=utf-8"));
    assert_eq!(csv.text, report.csv());
    let table = hub.get(&format!("/transparency.csv?year={year}&table=uses.by_source"), None);
    assert_eq!(table.status, 200);
    let rows: Vec<&str> = table.text.lines().collect();
    assert_eq!(rows[0], "section,key,label,measure,value");
    assert!(rows.len() > 1 && rows[1..].iter().all(|r| r.starts_with("uses.by_source,")), "{}", table.text);
    assert_eq!(
        rows.len() - 1,
        csv.text.lines().filter(|l| l.starts_with("uses.by_source,")).count(),
        "every row of the table"
    );
    for bad in ["uses.by_nothing", "totals", "UPPER", ""] {
        let r = hub.get(&format!("/transparency.csv?year={year}&table={bad}"), None);
        assert!(r.status == 404 || r.status == 400, "{bad}: {}", r.status);
    }

    // Every count, against the tally of what the hub answered.
    let tot = &got["totals"];
    assert_eq!([&tot["requests"], &tot["permit"], &tot["deny"], &tot["review"]].map(|v| v.as_u64().unwrap()), totals);
    assert_eq!((tot["approved_on_review"].as_u64(), tot["denied_on_review"].as_u64()), (Some(1), Some(1)));
    assert_eq!(tot["pending_review"], 1);
    assert_eq!([tot["outside_requests"].as_u64().unwrap(), tot["outside_released"].as_u64().unwrap()], outside);
    assert_eq!((tot["refused"].as_u64(), tot["entries"].as_u64()), (Some(1), Some(entries)));
    assert_eq!((totals[0], totals[1], totals[2], totals[3]), (15, 2, 10, 3));
    for ((table, key), want) in &t.rows {
        let row = find(&got, table, key);
        for (m, w) in MEASURES.iter().zip(want) {
            assert_eq!(row[m].as_u64(), Some(*w), "{table} {key} {m}: {row}");
        }
    }
    for table in ["uses.by_source", "uses.by_data_type", "uses.by_action", "uses.by_purpose", "uses.by_legal_basis"] {
        assert_eq!(list_len(&got, table), t.rows.keys().filter(|(tb, _)| tb == table).count(), "{table}");
    }
    for table in ["sharing.by_recipient", "sharing.by_originator", "sharing.by_recipient_kind"] {
        assert_eq!(list_len(&got, table), t.rows.keys().filter(|(tb, _)| tb == table).count(), "{table}");
    }
    for ((list, key), want) in &t.counts {
        assert_eq!(find(&got, list, key)["count"].as_u64(), Some(*want), "{list} {key}");
    }
    for list in [
        "citations.denials",
        "citations.reviews",
        "obligations.by_obligation",
        "obligations.by_kind",
        "reviews.verdicts_in_year",
        "violations.refused_by_agency",
    ] {
        assert_eq!(list_len(&got, list), t.counts.keys().filter(|(l, _)| l == list).count(), "{list}");
    }
    let month: u64 = got["uses"]["by_month"].as_array().unwrap().iter().map(|m| m["requests"].as_u64().unwrap()).sum();
    assert_eq!((list_len(&got, "uses.by_month"), month), (12, totals[0]));
    assert_eq!((got["reviews"]["held"].as_u64(), got["reviews"]["pending"].as_u64()), (Some(3), Some(1)));
    assert_eq!(got["obligations"]["releases"].as_u64(), Some(releases.0));
    assert_eq!(got["obligations"]["releases_with_obligations"].as_u64(), Some(releases.1));
    assert_eq!(got["violations"]["complaints_recorded"], 0);

    // No personal data: no subject, justification, case number, user, token, decision id,
    // review reason, or keyed hash of the ledger.
    for item in reader.entries() {
        let (_, entry) = item.unwrap();
        let v = serde_json::to_value(&entry).unwrap();
        for hash in [&v["subject"]["hmac"], &v["justification"], &v["case_number"], &v["reason"]] {
            if let Some(h) = hash.as_str() {
                secrets.push(h.to_string());
            }
        }
    }
    assert!(secrets.len() > 60);
    for s in &secrets {
        assert!(!page.text.contains(s.as_str()), "{s:?} is in the JSON page");
        assert!(!html.text.contains(s.as_str()), "{s:?} is in the HTML page");
    }

    // A year the ledger cannot hold (before its first entry, after the current year) is a 404
    // naming the years it holds; a bad year is a 400; the page is read-only.
    for other in [year - 1, year + 1] {
        for path in ["/v1/transparency", "/transparency"] {
            let r = hub.get(&format!("{path}?year={other}"), None);
            assert_eq!((r.status, r.content_type.as_str()), (404, "application/problem+json"), "{other}: {}", r.text);
            let p = r.json();
            assert_eq!(p["type"], "urn:fusionguard:problem:year-not-in-ledger");
            assert_eq!((p["first_year"].as_i64(), p["last_year"].as_i64()), (Some(year), Some(year)), "{p}");
            assert!(p["detail"].as_str().unwrap().contains(&format!("only {year}")), "{p}");
        }
    }
    for bad in ["year=20x6", "year=1969", "when=2025"] {
        let r = hub.get(&format!("/v1/transparency?{bad}"), None);
        assert_eq!((r.status, r.content_type.as_str()), (400, "application/problem+json"), "{bad}: {}", r.text);
    }
    let r = hub.post("/transparency", None, "{}");
    assert_eq!((r.status, r.content_type.as_str()), (405, "application/problem+json"));
    let doc = hub.get("/openapi.json", None).json();
    assert!(doc["paths"]["/transparency"]["get"].is_object() && doc["paths"]["/v1/transparency"]["get"].is_object());
}

/// The year's report once the hub's count has reached the checkpoint of `size` entries (the
/// count follows the ledger within a second or so of each checkpoint).
fn counted(hub: &TestHub, year: i64, size: u64) -> common::Reply {
    let path = format!("/v1/transparency?year={year}");
    for _ in 0..200 {
        let page = hub.get(&path, None);
        if page.status != 200 || page.json()["ledger"]["tree_size"] == size {
            return page;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the count did not reach the checkpoint of {size} entries");
}

/// The page without the hub's navigation (its link home and its language switch).
fn without_nav(page: &str) -> String {
    let (start, end) = (page.find("<nav").unwrap(), page.find("</nav>").unwrap() + "</nav>".len());
    format!("{}{}", &page[..start], &page[end..])
}

/// Every table cell's measure and number, in order.
fn cells(page: &str) -> Vec<&str> {
    page.split("<td data-m=\"").skip(1).map(|c| &c[..c.find("</td>").unwrap()]).collect()
}

/// One raw HTTP/1.1 GET with `headers`: the status, the response headers (lower case) and the body.
fn get_with(hub: &TestHub, path: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let mut s = TcpStream::connect(hub.url.strip_prefix("http://").unwrap()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    s.write_all(format!("{req}\r\n").as_bytes()).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_ascii_lowercase(), body.to_string())
}

/// `/transparency` in English and Spanish: `?lang=` (remembered in a cookie), else the cookie,
/// else `Accept-Language`, else English; the same numbers in both; an unknown language is no error.
fn languages(hub: &TestHub, year: i64, report: &oversight::transparency::Report, english: &str) {
    use oversight::transparency::ReportLang;
    let path = format!("/transparency?year={year}");
    let csv_href = format!("/transparency.csv?year={year}");
    const COOKIE_EN: &str = "set-cookie: fg_lang=en; path=/; max-age=31536000; samesite=lax";
    const COOKIE_ES: &str = "set-cookie: fg_lang=es; path=/; max-age=31536000; samesite=lax";
    const CSP: &str = "content-security-policy: default-src 'none'; style-src 'unsafe-inline'; img-src 'self'";

    // Accept-Language: Spanish. The Spanish page, `lang="es"`, the same numbers; nothing remembered.
    let (status, head, es) = get_with(hub, &path, &[("Accept-Language", "fr-FR, es-MX;q=0.9, en;q=0.5")]);
    assert_eq!(status, 200, "{es}");
    assert!(es.starts_with("<!DOCTYPE html><html lang=\"es\"><head>"), "{}", &es[..80.min(es.len())]);
    assert!(head.contains("content-language: es") && head.contains(CSP), "{head}");
    assert!(head.contains("vary: accept-language, cookie") && !head.contains("set-cookie"), "{head}");
    assert_eq!(without_nav(&es), report.html_in(ReportLang::Es, Some(&csv_href)));
    assert_eq!(cells(&es), cells(english));
    assert!(cells(&es).len() > 100, "{}", cells(&es).len());
    assert!(es.contains("Informe de transparencia") && !es.contains("No complaints are recorded"));
    assert!(es.contains("<nav aria-label=\"Portal e idioma\"><p><a href=\"/\">Inicio del portal de FusionGuard</a>"));
    assert!(es.contains(&format!(
        "<a href=\"/transparency?year={year}&amp;lang=en\" lang=\"en\" hreflang=\"en\">English</a>"
    )));
    // The same page for `es` alone, and for the Spanish cookie.
    assert_eq!(get_with(hub, &path, &[("Accept-Language", "es")]).2, es);
    let (_, head, page) = get_with(hub, &path, &[("Cookie", "other=1; fg_lang=es")]);
    assert!(page == es && !head.contains("set-cookie"), "{head}");

    // `?lang=en` wins over the browser's language and the cookie, and is remembered.
    let (status, head, page) =
        get_with(hub, &format!("{path}&lang=en"), &[("Accept-Language", "es"), ("Cookie", "fg_lang=es")]);
    assert_eq!(status, 200);
    assert_eq!(page, english);
    assert!(head.contains(COOKIE_EN) && head.contains("content-language: en"), "{head}");
    // `?lang=es` (first in the query, too) likewise; the cookie then wins over the browser's language.
    let (_, head, page) = get_with(hub, &format!("/transparency?lang=es&year={year}"), &[]);
    assert!(page == es && head.contains(COOKIE_ES), "{head}");
    let (_, head, page) = get_with(hub, &path, &[("Accept-Language", "es"), ("Cookie", "fg_lang=en")]);
    assert!(page == english && !head.contains("set-cookie"), "{head}");

    // A language the page is not written in: no error, nothing remembered; the cookie, the
    // browser's language or English decides.
    for (query, headers, want) in [
        ("lang=xx", vec![], english),
        ("lang=", vec![], english),
        ("lang=fr-FR", vec![("Accept-Language", "es")], es.as_str()),
        ("lang=de", vec![("Cookie", "fg_lang=es")], es.as_str()),
        ("lang=%3Cscript%3E", vec![("Cookie", "fg_lang=zz")], english),
    ] {
        let (status, head, page) = get_with(hub, &format!("{path}&{query}"), &headers);
        assert_eq!(status, 200, "{query}: {page}");
        assert!(page == want && !head.contains("set-cookie"), "{query}: {head}");
    }
    // Other parameters are still refused.
    let (status, _, body) = get_with(hub, &format!("{path}&lang=es&x=1"), &[]);
    assert_eq!(status, 400, "{body}");
    let (status, _, _) = get_with(hub, &format!("/v1/transparency?year={year}&lang=es"), &[]);
    assert_eq!(status, 400);
}

/// One raw HTTP/1.1 GET on its own connection, sent at once; the reply is read later with
/// [`reply_of`], so that hundreds can be in flight from one thread.
fn send_get(addr: &str, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
    s
}

/// The status and body of the reply on `s` (the hub closes the connection after it).
fn reply_of(mut s: TcpStream) -> (u16, String) {
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string();
    (status, body)
}

/// An attacker asks for hundreds of different years at once. Each once cost a pass over the
/// whole ledger on a blocking thread parked on one lock, which starved the hub's other blocking
/// work (14.7 s for `/ledger/checkpoint` with 560 such requests). Now one pass counts every
/// year, and a year the ledger cannot hold is a 404: the hub keeps answering meanwhile, and the
/// current year's report is still the auditor's.
#[test]
fn a_flood_of_years_does_not_stall_the_hub() {
    let dir = tempfile::tempdir().unwrap();
    // 400 quick requests from one token: over its rate limit, so limits are off here.
    let hub = TestHub::start_custom(dir.path(), |o| o.limits = false);
    // A ledger of a few hundred entries, so that a pass over it takes a while.
    let det = hub.token("oc-sheriff", "det-1", "detective");
    let entries: u64 = 400;
    std::thread::scope(|s| {
        for t in 0..8 {
            let (hub, det) = (&hub, &det);
            s.spawn(move || {
                for i in 0..entries / 8 {
                    let r = hub.post("/v1/requests", Some(det), &alpr(&format!("FL{t}{i:04}")));
                    assert_eq!(r.status, 200, "{}", r.text);
                }
            });
        }
    });
    hub.wait_checkpoint(entries);
    let year = oversight::time::civil_from_days((hub::tokens::now() / 86_400) as i64).0;
    counted(&hub, year, entries);

    // A thousand requests for distinct years (the current one among them), all in flight at
    // once: more than the runtime's 512 blocking threads.
    let addr = hub.url.strip_prefix("http://").unwrap().to_string();
    let years: Vec<i64> = (1970..1970 + 1000).collect();
    assert!(years.contains(&year));
    // Meanwhile the hub's other endpoints answer at once: `/ledger/checkpoint` is read on the
    // blocking pool, as the transparency count is. It is asked after every 100 years sent, and
    // a few times once all are.
    let mut slowest = Duration::ZERO;
    let mut probe = || {
        let t = Instant::now();
        let (status, body) = reply_of(send_get(&addr, "/ledger/checkpoint"));
        assert_eq!(status, 200, "{body}");
        slowest = slowest.max(t.elapsed());
    };
    let started = Instant::now();
    let mut flood = Vec::new();
    for (i, y) in years.iter().enumerate() {
        flood.push(send_get(&addr, &format!("/v1/transparency?year={y}")));
        if i % 100 == 99 {
            probe();
        }
    }
    let sent = started.elapsed();
    for _ in 0..5 {
        probe();
        std::thread::sleep(Duration::from_millis(20));
    }
    let replies: Vec<(u16, String)> = flood.into_iter().map(reply_of).collect();
    eprintln!(
        "{} years sent in {sent:?}, all answered in {:?}; slowest /ledger/checkpoint meanwhile: {slowest:?}",
        years.len(),
        started.elapsed()
    );
    assert!(slowest < Duration::from_secs(1), "/ledger/checkpoint took {slowest:?} during the flood");

    // Every year but the current one is a 404 naming the one year the ledger holds.
    for (y, (status, body)) in years.iter().zip(&replies) {
        if *y == year {
            assert_eq!(*status, 200, "{body}");
            continue;
        }
        assert_eq!(*status, 404, "{y}: {body}");
        let p: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(p["type"], "urn:fusionguard:problem:year-not-in-ledger", "{p}");
        assert_eq!((p["first_year"].as_i64(), p["last_year"].as_i64()), (Some(year), Some(year)), "{p}");
    }

    // The current year's report is the auditor's, at the checkpoint it names.
    let got: serde_json::Value = serde_json::from_str(&replies[(year - 1970) as usize].1).unwrap();
    let size = got["ledger"]["tree_size"].as_u64().unwrap();
    assert!(size >= entries, "{size}");
    let reader = oversight::ledger::LedgerReader::open_data_dir(&hub.data).unwrap();
    let deployment = model::Deployment::load(&repo().join("examples/seed-world")).unwrap();
    let info = oversight::transparency::LedgerInfo::of(&reader);
    let report = oversight::transparency::Report::build_audited(year, info, &deployment, reader.entries()).unwrap();
    assert_eq!(reader.size(), size);
    assert_eq!(got, serde_json::to_value(&report).unwrap());
    assert_eq!(got["totals"]["permit"], entries);

    // A new checkpoint is counted: the page follows it (at once, or one count later).
    let r = hub.post("/v1/requests", Some(&det), &alpr("FLNEXT"));
    assert_eq!(r.status, 200, "{}", r.text);
    hub.wait_checkpoint(entries + 1);
    let mut counted = 0;
    for _ in 0..100 {
        counted = hub.get(&format!("/v1/transparency?year={year}"), None).json()["totals"]["permit"].as_u64().unwrap();
        if counted == entries + 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(counted, entries + 1);
}

/// The hub counts its ledger as it grows, a few entries at a time across many checkpoints (and
/// across bundles), and after each step its report is exactly an auditor's whole-ledger report
/// of the same checkpoint: counting only the new entries loses and doubles nothing.
#[test]
fn the_count_follows_the_ledger_as_it_grows() {
    let dir = tempfile::tempdir().unwrap();
    // 261 quick requests from one token: over its rate limit, so limits are off here.
    let hub = TestHub::start_custom(dir.path(), |o| o.limits = false);
    let deployment = model::Deployment::load(&repo().join("examples/seed-world")).unwrap();
    let year = oversight::time::civil_from_days((hub::tokens::now() / 86_400) as i64).0;
    let token = hub.token("oc-sheriff", "det-1", "detective");
    let mut entries = 0u64;
    // The first count (of an empty ledger), then steps that cross the first bundle's end.
    for step in [0u64, 3, 1, 250, 7] {
        for i in 0..step {
            let r = hub.post("/v1/requests", Some(&token), &alpr(&format!("{}STEP{i}", entries % 97)));
            assert_eq!(r.status, 200, "{}", r.text);
            entries += 1;
        }
        if entries > 0 {
            hub.wait_checkpoint(entries);
        }
        let got = counted(&hub, year, entries).json();
        assert_eq!(got["ledger"]["tree_size"], entries, "the count reached the checkpoint of {entries}");
        assert_eq!(got["totals"]["requests"], entries);
        let reader = oversight::ledger::LedgerReader::open_data_dir(&hub.data).unwrap();
        let info = oversight::transparency::LedgerInfo::of(&reader);
        let report = oversight::transparency::Report::build_audited(year, info, &deployment, reader.entries()).unwrap();
        assert_eq!(got, serde_json::to_value(&report).unwrap(), "at {entries} entries");
        // Each entry was read once, by the first count or by the step that added it.
        let metric = |name: &str| -> u64 {
            let text = hub.get("/metrics", None).text;
            text.lines().find_map(|l| l.strip_prefix(&format!("{name} "))?.trim().parse().ok()).unwrap()
        };
        assert_eq!(metric("fusionguard_transparency_entries_counted_total"), entries);
        assert_eq!(metric("fusionguard_transparency_counted_size"), entries);
        assert_eq!(metric("fusionguard_transparency_count_failures_total"), 0);
    }
}

/// A published ledger that no longer verifies is never counted: after an entry bundle was changed
/// on disk, a restarted hub's pages answer 500 `ledger-unverifiable` naming the file (nothing
/// counted from it, no report served), and `/metrics` counts the failure.
#[test]
fn a_tampered_published_ledger_is_not_counted() {
    let dir = tempfile::tempdir().unwrap();
    let year = oversight::time::civil_from_days((hub::tokens::now() / 86_400) as i64).0;
    {
        let hub = TestHub::start_custom(dir.path(), |o| o.limits = false);
        let token = hub.token("oc-sheriff", "det-1", "detective");
        for i in 0..260 {
            assert_eq!(hub.post("/v1/requests", Some(&token), &alpr(&format!("TMP{i}"))).status, 200);
        }
        hub.wait_checkpoint(260);
        assert_eq!(counted(&hub, year, 260).status, 200);
    }
    // The first, full bundle: a byte of its last entry changed.
    let bundle = dir.path().join("ledger/tiles/tile/entries/000");
    let mut bytes = std::fs::read(&bundle).unwrap();
    let at = bytes.len() - 3;
    bytes[at] ^= 0x20;
    std::fs::write(&bundle, &bytes).unwrap();
    let hub = TestHub::start_custom(dir.path(), |o| o.limits = false);
    for path in [format!("/v1/transparency?year={year}"), "/transparency".to_string(), "/".to_string()] {
        let r = hub.get(&path, None);
        assert_eq!(r.status, 500, "{path}: {}", r.text);
        if path.starts_with("/v1/") {
            let p = r.json();
            assert_eq!(p["type"], "urn:fusionguard:problem:ledger-unverifiable", "{p}");
            assert!(p["detail"].as_str().unwrap().contains("tile/entries/000"), "{p}");
        }
        assert!(!r.text.contains("\"totals\""), "no report from a ledger that does not verify");
    }
    let failures: u64 = hub
        .get("/metrics", None)
        .text
        .lines()
        .find_map(|l| l.strip_prefix("fusionguard_transparency_count_failures_total ")?.trim().parse().ok())
        .unwrap();
    assert!(failures >= 1, "{failures}");
}
