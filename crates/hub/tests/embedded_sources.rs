//! The embedded SQL store over real HTTP: the demo's synthetic sources are tables of
//! `DATA/sources/embedded.sqlite`; an import into a running hub is served within seconds; a CSV
//! file of a source takes precedence; a damaged store is a
//! clear start error; a store that stops answering mid-run gives 503, releases nothing, and the
//! hub answers again once it is back.

mod common;

use common::{alpr, repo, TestHub};
use serde_json::json;

fn store(data: &std::path::Path) -> std::path::PathBuf {
    data.join(hub::sources::SOURCES_DIR).join(hub::sources::EMBEDDED_DB)
}

#[test]
fn the_demo_sources_are_served_from_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let hub = TestHub::start(&data);
    assert!(store(&data).is_file());
    assert!(!data.join("sources/ociac-alpr.csv").exists());
    let token = hub.token("oc-sheriff", "det-1", "detective");
    let body = hub.post("/v1/requests", Some(&token), &alpr(" 7abc123")).json();
    assert_eq!(body["decision"], "permit", "{body:#}");
    let records = body["data"].as_array().unwrap();
    assert_eq!(records.len(), 3, "the three synthetic reads of the demo plate: {body:#}");
    let declared = ["plate", "read_time", "camera_location", "vehicle_image"];
    for r in records {
        assert_eq!(r["plate"], hub::sources::DEMO_PLATE);
        assert!(r.as_object().unwrap().keys().all(|k| declared.contains(&k.as_str())), "{r}");
    }
    let none = hub.post("/v1/requests", Some(&token), &alpr("0NONE00")).json();
    assert_eq!((&none["data"], &none["found"]), (&json!([]), &json!(0)), "nothing found says so: {none}");
    assert_eq!(body["found"], 3);

    // An import into the running hub's store is served within a second or so, no restart.
    let rows = hub::sources::parse_csv(
        "plate,read_time,camera_location,vehicle_image\n7ABC123,2024-06-06T06:06:00Z,imported camera,none\n",
    )
    .unwrap();
    assert_eq!(hub::sources::write_table(&store(&data), "ociac-alpr", &rows).unwrap(), 1);
    let deadline = std::time::Instant::now() + hub::sources::sqlite::SNAPSHOT * 5;
    loop {
        let body = hub.post("/v1/requests", Some(&token), &alpr("7ABC123")).json();
        if body["data"].as_array().map(Vec::len) == Some(1) {
            assert_eq!(body["data"][0]["camera_location"], "imported camera", "{body:#}");
            break;
        }
        assert_eq!(body["data"].as_array().map(Vec::len), Some(3), "the old rows until then: {body:#}");
        assert!(std::time::Instant::now() < deadline, "the import was not served");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(hub);

    // A CSV file for the source takes precedence over its table in the store.
    std::fs::write(
        data.join("sources/ociac-alpr.csv"),
        "plate,read_time,camera_location,vehicle_image\n7ABC123,2024-05-05T05:05:00Z,csv camera,none\n",
    )
    .unwrap();
    let hub = TestHub::start(&data);
    let token = hub.token("oc-sheriff", "det-1", "detective");
    let body = hub.post("/v1/requests", Some(&token), &alpr("7ABC123")).json();
    assert_eq!(body["data"][0]["camera_location"], "csv camera", "{body:#}");
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
}

#[test]
fn a_damaged_store_is_refused_at_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(TestHub::start(&data));
    std::fs::write(store(&data), b"this is not a database, it was overwritten").unwrap();
    let options = hub::HubOptions::new(repo().join("examples/seed-world"), repo().join("laws"), data.clone());
    let err = hub::Hub::open(options).unwrap_err().to_string();
    assert!(err.contains("embedded.sqlite") && err.contains("not a database"), "{err}");
}

#[test]
fn a_store_that_stops_answering_gives_503_and_releases_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let hub = TestHub::start(&data);
    let token = hub.token("oc-sheriff", "det-1", "detective");
    assert_eq!(hub.post("/v1/requests", Some(&token), &alpr("7ABC123")).status, 200);

    // Another program renames the source's table away while the hub runs; the hub sees it once
    // its read snapshot is renewed (within `SNAPSHOT`), and from then on releases nothing.
    let admin = rusqlite::Connection::open(store(&data)).unwrap();
    admin.execute_batch(r#"ALTER TABLE "ociac-alpr" RENAME TO "ociac-alpr-moved""#).unwrap();
    let deadline = std::time::Instant::now() + hub::sources::sqlite::SNAPSHOT * 5;
    let mut served = 0;
    let r = loop {
        let r = hub.post("/v1/requests", Some(&token), &alpr("7ABC123"));
        if r.status != 200 || std::time::Instant::now() > deadline {
            break r;
        }
        served += 1;
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(r.status, 503, "{}", r.text);
    assert!(r.content_type.starts_with("application/problem+json"));
    let p = r.json();
    assert_eq!(p["type"], "urn:fusionguard:problem:source-unavailable");
    assert!(p["detail"].as_str().unwrap().contains("ociac-alpr"), "{p}");
    assert!(!r.text.contains(data.to_str().unwrap()), "no path of the hub's in an answer: {p}");
    assert!(p.get("data").is_none() && !r.text.contains("synthetic camera"), "nothing released: {p}");
    // The permit was decided and logged: the problem carries its receipt.
    let index = p["ledger"]["index"].as_u64().unwrap();
    assert_eq!(index, 1 + served);
    let metrics = hub.get("/metrics", None).text;
    assert!(metrics.contains("fusionguard_source_errors_total 1"), "{metrics}");

    // Back in place: the hub answers with data again, no restart needed.
    admin.execute_batch(r#"ALTER TABLE "ociac-alpr-moved" RENAME TO "ociac-alpr""#).unwrap();
    let body = hub.post("/v1/requests", Some(&token), &alpr("7ABC123")).json();
    assert_eq!(body["data"].as_array().map(Vec::len), Some(3), "{body:#}");
    assert_eq!(body["ledger"]["index"], index + 1);
}

#[test]
fn a_permit_on_a_source_no_connector_serves_is_503_logged_and_releases_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let deployment = model::Deployment::load(&repo().join("examples/seed-world")).unwrap();
    hub::sources::write_synthetic(&data, &deployment, hub::sources::SYNTHETIC_SEED).unwrap();
    rusqlite::Connection::open(store(&data)).unwrap().execute_batch(r#"DROP TABLE "ociac-alpr""#).unwrap();
    let hub = TestHub::start(&data);
    let token = hub.token("oc-sheriff", "det-1", "detective");
    let r = hub.post("/v1/requests", Some(&token), &alpr("7ABC123"));
    assert_eq!(r.status, 503, "{}", r.text);
    let p = r.json();
    assert_eq!(p["type"], "urn:fusionguard:problem:source-unavailable");
    assert!(p["detail"].as_str().unwrap().contains("no connector"), "{p}");
    assert!(p.get("data").is_none(), "nothing released: {p}");
    assert_eq!(p["ledger"]["index"], 0, "the permit was decided and logged first");
    assert_eq!(hub.ledger_size(), 1);
}
