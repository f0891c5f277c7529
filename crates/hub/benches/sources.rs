//! The source connectors side by side: the same synthetic seed-world table (`ociac-alpr`, the demo
//! plate: 3 records) looked up through the embedded SQLite store and through the in-memory CSV
//! table, in alternating rounds. Prints nanoseconds per lookup and the ratio.
//!
//! `cargo bench -p fusionguard-hub --bench sources` (from the repository root).

use std::path::Path;
use std::time::Instant;

use hub::sources::{to_csv, write_synthetic, Connectors, SOURCES_DIR, SYNTHETIC_SEED};
use model::Subject;

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let deployment = model::Deployment::load(&repo.join("examples/seed-world")).expect("seed world");
    let source = deployment.source("ociac-alpr").expect("ociac-alpr").clone();
    let tmp = std::env::temp_dir().join(format!("fg-sources-bench-{}", std::process::id()));
    let (lite_dir, csv_dir) = (tmp.join("lite"), tmp.join("csv"));
    write_synthetic(&lite_dir, &deployment, SYNTHETIC_SEED).expect("embedded store");
    std::fs::create_dir_all(csv_dir.join(SOURCES_DIR)).expect("csv dir");
    let rows = hub::sources::synthetic_rows(&source, SYNTHETIC_SEED);
    std::fs::write(csv_dir.join(SOURCES_DIR).join("ociac-alpr.csv"), to_csv(&rows)).expect("csv");
    let lite = Connectors::load(&lite_dir, &deployment).expect("load store");
    let csv = Connectors::load(&csv_dir, &deployment).expect("load csv");
    let subject = Subject { kind: "plate".into(), value: hub::sources::DEMO_PLATE.into() };
    let n = 200_000;
    let time = |c: &Connectors| {
        let start = Instant::now();
        for _ in 0..n {
            let r = c.fetch(&source, &subject).expect("connector").expect("lookup");
            assert_eq!(r.len(), 3);
        }
        start.elapsed().as_nanos() as f64 / f64::from(n)
    };
    time(&lite);
    time(&csv);
    for round in 1..=5 {
        let (l, c) = (time(&lite), time(&csv));
        println!(
            "round {round}: embedded store {l:>7.0} ns/lookup, CSV in memory {c:>7.0} ns/lookup, ratio {:.2}x",
            l / c
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
