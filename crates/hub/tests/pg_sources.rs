//! The PostgreSQL table connector against the CI server: a deployment names a table for a
//! source; lookups are parameterised, match like the CSV connector and release only the declared
//! fields; a table without a declared column, or an unreachable database, is a clear error.

mod common;

use common::{alpr, conninfo, repo, Schema, TestHub};

/// The seed world with `ociac-alpr` served from `table`, written into `dir`.
fn deployment_with_table(dir: &std::path::Path, table: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(repo().join("examples/seed-world/deployment.toml")).unwrap();
    let anchor = "id = \"ociac-alpr\"\n";
    assert!(text.contains(anchor));
    let text = text.replace(anchor, &format!("{anchor}table = \"{table}\"\n"));
    let path = dir.join("deployment.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_source_served_from_a_postgres_table() {
    let schema = Schema::new("sources");
    let s = &schema.0;
    schema
        .client()
        .batch_execute(&format!(
            "CREATE SCHEMA {s};
             CREATE TABLE {s}.alpr_reads (id SERIAL, plate TEXT, read_time TIMESTAMPTZ, camera_location TEXT,
                 vehicle_image TEXT, owner_ssn TEXT);
             INSERT INTO {s}.alpr_reads (plate, read_time, camera_location, vehicle_image, owner_ssn) VALUES
                 ('7ABC123', '2024-03-01 10:00:00+00', 'camera 1', 'img-1.jpg', '123-45-6789'),
                 (' 7abc123 ', '2024-03-02 11:00:00+00', 'camera 2', NULL, '123-45-6789'),
                 ('8XYZ999', '2024-03-03 12:00:00+00', 'camera 3', 'img-3.jpg', '987-65-4321'),
                 ('ÉTÉ1', '2024-03-04 12:00:00+00', 'camera 4', 'img-4.jpg', '987-65-4321');"
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deployment = deployment_with_table(dir.path(), &format!("{s}.alpr_reads"));
    let data = dir.path().join("data");
    let hub = TestHub::start_custom(&data, |o| {
        o.deployment = deployment.clone();
        o.sources_db = Some(conninfo().to_string());
    });
    let token = hub.token("oc-sheriff", "det-1", "detective");

    let body = hub.post("/v1/requests", Some(&token), &alpr("7abc123")).json();
    assert_eq!(body["decision"], "permit", "{body:#}");
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "trimmed, case-folded match on the plate column: {body:#}");
    for rec in data {
        let rec = rec.as_object().unwrap();
        assert!(!rec.contains_key("owner_ssn") && !rec.contains_key("id"), "only declared fields: {rec:?}");
        assert!(rec["camera_location"].as_str().unwrap().starts_with("camera "));
    }
    assert!(!hub.post("/v1/requests", Some(&token), &alpr("7abc123")).text.contains("123-45-6789"));
    assert!(data.iter().any(|r| r["vehicle_image"].is_null()), "NULL stays null");
    // Both sides are folded by the database, so a key with non-ASCII letters is found as stored.
    let ete = hub.post("/v1/requests", Some(&token), &alpr(" ÉTÉ1")).json();
    assert_eq!(ete["data"].as_array().map(Vec::len), Some(1), "{ete:#}");

    // The subject is a parameter: SQL in it is just a plate that matches nothing.
    for probe in ["7ABC123' OR '1'='1", "x'; DROP TABLE alpr_reads; --"] {
        let b = hub.post("/v1/requests", Some(&token), &alpr(probe)).json();
        assert_eq!(b["data"].as_array().map(Vec::len), Some(0), "{probe}: {b:#}");
    }
    let left: i64 = schema.client().query_one(&format!("SELECT count(*) FROM {s}.alpr_reads"), &[]).unwrap().get(0);
    assert_eq!(left, 4, "the table is untouched");
    drop(hub);

    // A table without a declared column is refused at start, naming it.
    schema.client().batch_execute(&format!("ALTER TABLE {s}.alpr_reads DROP COLUMN camera_location")).unwrap();
    let open = |sources_db: Option<&str>| {
        let mut o = hub::HubOptions::new(deployment.clone(), repo().join("laws"), dir.path().join("other"));
        o.sources_db = sources_db.map(str::to_string);
        hub::Hub::open(o).map(|_| ()).unwrap_err().to_string()
    };
    let err = open(Some(conninfo()));
    assert!(err.contains("camera_location") && err.contains("alpr_reads"), "{err}");
    // No database given, or none reachable: clear errors.
    assert!(open(None).contains("--sources-db"));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = open(Some(&format!("host=127.0.0.1 port={port} user=postgres dbname=test")));
    assert!(err.contains("cannot reach the sources database"), "{err}");
}

#[test]
fn a_sources_database_that_goes_away_gives_503_and_releases_nothing() {
    let schema = Schema::new("srcdown");
    let s = &schema.0;
    schema
        .client()
        .batch_execute(&format!(
            "CREATE SCHEMA {s};
             CREATE TABLE {s}.reads (plate TEXT, read_time TEXT, camera_location TEXT, vehicle_image TEXT);
             INSERT INTO {s}.reads VALUES ('7ABC123', '2024-03-01', 'camera 1', 'img-1.jpg');"
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deployment = deployment_with_table(dir.path(), &format!("{s}.reads"));
    let app = format!("fg_src_{}", std::process::id());
    let hub = TestHub::start_custom(&dir.path().join("data"), |o| {
        o.deployment = deployment.clone();
        o.sources_db = Some(format!("{} application_name={app}", conninfo()));
    });
    let token = hub.token("oc-sheriff", "det-1", "detective");
    assert_eq!(
        hub.post("/v1/requests", Some(&token), &alpr("7ABC123")).json()["data"][0]["camera_location"],
        "camera 1"
    );

    // The database drops the hub's connection: the permit is logged, answered 503, nothing released.
    let killed: i64 = schema
        .client()
        .query_one("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", &[&app])
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);
    let r = hub.post("/v1/requests", Some(&token), &alpr("7ABC123"));
    assert_eq!(r.status, 503, "{}", r.text);
    let p = r.json();
    assert_eq!(p["type"], "urn:fusionguard:problem:source-unavailable", "{p}");
    assert_eq!(p["ledger"]["index"], 1, "{p}");
    assert!(!r.text.contains("camera 1"), "nothing released: {}", r.text);
    // The next request reconnects and answers with data.
    let body = hub.post("/v1/requests", Some(&token), &alpr("7ABC123")).json();
    assert_eq!(body["data"][0]["camera_location"], "camera 1", "{body:#}");
    assert_eq!(body["ledger"]["index"], 2);
}

#[test]
fn a_table_name_that_is_not_an_identifier_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let deployment = deployment_with_table(dir.path(), "reads; DROP TABLE x");
    let err = model::Deployment::load(&deployment).unwrap_err().to_string();
    assert!(err.contains("ociac-alpr") && err.contains("table"), "{err}");
}
