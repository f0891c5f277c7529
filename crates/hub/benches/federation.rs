//! Federation figures (BENCHMARKS.md, "Federation"), on loopback over HTTPS with mutual TLS:
//!
//! 1. forwarded-request latency against a local request on the same machine: Colorado's hub
//!    forwards a Denver detective's request for a California DMV record to California's hub,
//!    interleaved with the same request made locally by an LAPD detective at California's hub;
//!    p50 and p99 of each, one client and then eight at once, and one loopback round trip
//!    (`GET /healthz` on an open TLS connection). Target: forwarded p99 <= 2 x local p99 + one
//!    round trip.
//! 2. witness cosigning in a network of 20 hubs, each witnessing the 19 others: the time from an
//!    entry appended at one hub until its published checkpoint carries all 19 cosignatures.
//!
//! `cargo bench -p fusionguard-hub --bench federation [-- N]` (N requests per kind, default 400).

#[path = "../tests/fedkit/mod.rs"]
mod fedkit;

use std::time::{Duration, Instant};

use fedkit::{post, Fed};
use serde_json::json;

const CA_AGENCIES: &str = r#"["ociac", "ncric", "oc-sheriff", "lapd", "ca-dmv", "ca-doj", "lausd", "lapd-oig"]"#;
const CA_SOURCES: &str =
    r#"["ociac-alpr", "ca-dmv-records", "ca-dmv-photos", "calgang", "ca-doj-clets", "lapd-rms", "lausd-incidents"]"#;
const CO_AGENCIES: &str = r#"["ciac", "co-dmv", "denver-pd"]"#;
const CO_SOURCES: &str = r#"["co-dmv-records", "co-dmv-photos", "denver-rms"]"#;

fn request(agency: &str, user: &str, n: usize) -> Vec<u8> {
    json!({
        "requester": {"id": user, "agency": agency, "role": "analyst"},
        "source": "ca-dmv-records",
        "action": "lookup",
        "purpose": "criminal_investigation",
        "justification": "armed robbery investigation, suspect vehicle registration",
        "case_number": format!("CR-2026-{n:05}"),
        "legal_basis": {"kind": "judicial_warrant", "reference": "W-1", "issued_by": "Superior Court"},
        "subject": {"kind": "name", "value": "Jordan Doe"}
    })
    .to_string()
    .into_bytes()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(|a, b| a.total_cmp(b));
    (percentile(&ms, 0.5), percentile(&ms, 0.99))
}

/// `n` requests of each kind from `clients` threads, local and forwarded interleaved.
fn latency(fed: &Fed, n: usize, clients: usize) -> (Vec<f64>, Vec<f64>) {
    let (ca, co) = (0, 1);
    let local_url = format!("{}/v1/requests", fed.hubs[ca].url);
    let fwd_url = format!("{}/v1/requests", fed.hubs[co].url);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let (local_url, fwd_url) = (&local_url, &fwd_url);
                let agent = fed.agent(None);
                let lt = fed.token(ca, "lapd", &format!("det-{c}"), "analyst");
                let ft = fed.token(co, "denver-pd", &format!("det-{c}"), "analyst");
                s.spawn(move || {
                    let (mut local, mut fwd) = (Vec::new(), Vec::new());
                    for i in 0..n / clients {
                        for (url, token, agency, out) in
                            [(local_url, &lt, "lapd", &mut local), (fwd_url, &ft, "denver-pd", &mut fwd)]
                        {
                            let body = request(agency, &format!("det-{c}"), i);
                            let t = Instant::now();
                            let (status, answer) = post(&agent, url, Some(token), &body);
                            out.push(t.elapsed().as_secs_f64() * 1e3);
                            assert_eq!((status, answer["decision"].as_str()), (200, Some("permit")), "{answer}");
                        }
                    }
                    (local, fwd)
                })
            })
            .collect();
        let (mut local, mut fwd) = (Vec::new(), Vec::new());
        for h in handles {
            let (l, f) = h.join().unwrap();
            local.extend(l);
            fwd.extend(f);
        }
        (local, fwd)
    })
}

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(400);
    let fed = Fed::start_with(&["ca", "co"], Duration::from_secs(1), false, |fed, i| {
        let (law, agencies, peer_agencies, peer_sources) = match i {
            0 => ("US-CA", CA_AGENCIES, CO_AGENCIES, CO_SOURCES),
            _ => ("US-CO", CO_AGENCIES, CA_AGENCIES, CA_SOURCES),
        };
        fed.federation_table(i, law, agencies) + &fed.peer_table(1 - i, peer_agencies, peer_sources)
    });
    // Warm up connections and caches.
    latency(&fed, 20, 1);
    let agent = fed.agent(None);
    let health = format!("{}/healthz", fed.hubs[0].url);
    let mut rtt: Vec<f64> = (0..200)
        .map(|_| {
            let t = Instant::now();
            fedkit::agent_text(&agent, &health);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    rtt.sort_by(|a, b| a.total_cmp(b));
    let rtt_p50 = percentile(&rtt, 0.5);
    println!("loopback round trip (GET /healthz, TLS kept open): p50 {rtt_p50:.3} ms");
    for clients in [1, 8] {
        let (local, fwd) = latency(&fed, n, clients);
        let ((l50, l99), (f50, f99)) = (summary(local), summary(fwd));
        let target = 2.0 * l99 + rtt_p50;
        println!(
            "{clients} client(s), {n} each: local p50 {l50:.2} ms p99 {l99:.2} ms | forwarded p50 {f50:.2} ms p99 {f99:.2} ms | target p99 <= {target:.2} ms: {}",
            if f99 <= target { "met" } else { "NOT met" }
        );
    }
    drop(fed);

    // Witness cosigning among 20 hubs.
    let names: Vec<String> = (0..20).map(|i| format!("h{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let t = Instant::now();
    let fed = Fed::start_with(&refs, Duration::from_millis(100), false, |fed, i| {
        let mut text = fed.federation_table(i, "US-CA", "[]");
        for j in (0..20).filter(|&j| j != i) {
            text.push_str(&fed.peer_table(j, "[]", "[]"));
        }
        text
    });
    println!("20 hubs started in {:.1} s", t.elapsed().as_secs_f64());
    let agent = fed.agent(None);
    let as_peer = fed.agent(Some(&fed.root.join("h01/tls")));
    let url = format!("{}{}", fed.hubs[0].url, hub::federation::REQUESTS_PATH);
    let mut times = Vec::new();
    for round in 0..20 {
        // A refused envelope is one new entry in hub 0's ledger.
        let (before, _) = checkpoint_size(&fed, &agent);
        let t = Instant::now();
        let (status, _) = post(&as_peer, &url, None, b"{}");
        assert_eq!(status, 400);
        loop {
            let (size, cosigned) = checkpoint_size(&fed, &agent);
            if size > before && cosigned == 19 {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(30), "round {round}: no fully cosigned checkpoint");
            std::thread::sleep(Duration::from_millis(2));
        }
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (p50, p99) = summary(times);
    println!(
        "20 hubs: new entry to a checkpoint with all 19 cosignatures: p50 {p50:.1} ms, max {p99:.1} ms (checkpoint interval 100 ms)"
    );
}

/// Hub 0's published checkpoint size and how many peers cosigned it.
fn checkpoint_size(fed: &Fed, agent: &ureq::Agent) -> (u64, usize) {
    let (n, text) = fed.cosignatures(agent, 0);
    let size = text.lines().nth(1).and_then(|l| l.parse().ok()).unwrap_or(0);
    (size, n)
}
