//! Decision-latency benchmark over a realistic mix of requests (`fusionguard laws bench`).
//!
//! The mix is generated from the deployment with a fixed seed: mostly ordinary local
//! criminal-investigation lookups, then forwarded requests through fusion centers, federal
//! requests, immigration-enforcement requests (stated and hidden in the justification), biometric
//! searches and bulk exports. Sliced and unsliced evaluation run in alternating rounds of the same
//! process so that machine noise hits both alike.

use std::time::Instant;

use model::{ChainLink, Deployment, ImmigrationRole, LegalBasis, Request, Requester, Subject};
use serde::Serialize;

use crate::engine::{Engine, Slicing};

/// A small deterministic PRNG (xorshift64*), so the mix is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const JUSTIFICATIONS: &[&str] = &[
    "Armed robbery at 5th and Main, suspect vehicle seen leaving",
    "Hit and run, silver sedan, partial plate",
    "Missing juvenile, last seen near the transit center",
    "Burglary series follow-up with detective unit",
    "Stolen vehicle recovered, identify registered owner",
    "ICE asked us to run this plate",
    "Subject has a final order of removal",
    "Immigration Question",
    "HSI human trafficking task force lead",
    "Suspect known to sell ice near the park",
];

/// Generates `n` requests over the deployment's agencies and sources.
pub fn request_mix(deployment: &Deployment, n: usize, seed: u64) -> Vec<Request> {
    let mut rng = Rng(seed | 1);
    let agencies = deployment.agencies();
    let sources = deployment.sources();
    let local: Vec<_> = agencies.iter().filter(|a| !a.is_federal()).collect();
    let fusion: Vec<_> = agencies.iter().filter(|a| a.kind == model::AgencyKind::FusionCenter).collect();
    let immigration: Vec<_> = agencies.iter().filter(|a| a.immigration_role != ImmigrationRole::None).collect();
    (0..n)
        .map(|i| {
            let source = rng.pick(sources);
            let roll = rng.below(100);
            // 60% local criminal lookups; 15% forwarded through a fusion center; 10% federal;
            // 10% immigration (stated or in the text); 5% biometric or bulk.
            let (requester, chain): (&model::Agency, Vec<&model::Agency>) = match roll {
                0..=59 => (*rng.pick(&local), vec![]),
                60..=74 => (*rng.pick(&fusion), vec![rng.pick(agencies)]),
                75..=84 => (rng.pick(agencies), vec![]),
                _ => (*rng.pick(&immigration), vec![]),
            };
            let purpose = match roll {
                85..=89 => "civil_immigration_enforcement",
                90..=92 => "criminal_immigration_enforcement",
                _ => *rng.pick(&[
                    "criminal_investigation",
                    "criminal_investigation",
                    "missing_person",
                    "traffic_enforcement",
                ]),
            };
            let action = match rng.below(20) {
                0 => "biometric_search",
                1 => "bulk_export",
                _ => "lookup",
            };
            let legal =
                *rng.pick(&["none", "none", "none", "judicial_warrant", "administrative_warrant", "court_order"]);
            Request {
                requester: Requester { id: format!("user-{i}"), agency: requester.id.clone(), role: "analyst".into() },
                on_behalf_of: chain
                    .iter()
                    .map(|a| ChainLink { id: format!("orig-{i}"), agency: a.id.clone() })
                    .collect(),
                source: source.id.clone(),
                action: action.into(),
                purpose: purpose.into(),
                justification: (*rng.pick(JUSTIFICATIONS)).to_string(),
                case_number: if rng.below(4) == 0 { None } else { Some(format!("25-{:05}", rng.below(99999))) },
                legal_basis: LegalBasis { kind: legal.into(), reference: None, issued_by: None },
                subject: Subject { kind: "plate".into(), value: format!("7ABC{:03}", rng.below(1000)) },
                fields: None,
                certifications: vec![],
            }
        })
        .collect()
}

/// The figures `laws bench --json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// Median decision latency, sliced, in microseconds.
    pub p50_us: f64,
    /// 99th-percentile latency, sliced.
    pub p99_us: f64,
    /// Policies in the library.
    pub policies: usize,
    /// Mean number of policies in the slices the mix used (per chain link).
    pub mean_slice_policies: f64,
    /// Median latency evaluating the whole library.
    pub unsliced_p50_us: f64,
    /// 99th-percentile latency evaluating the whole library.
    pub unsliced_p99_us: f64,
    /// unsliced_p99_us / p99_us.
    pub speedup_p99: f64,
    /// Decisions timed per mode.
    pub decisions: usize,
    /// Outcomes of the mix (sliced): permit, deny, review.
    pub outcomes: [usize; 3],
    /// Milliseconds to build every slice of the deployment (once, at startup).
    pub warm_ms: f64,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Times `rounds` passes over a mix of `mix` requests, alternating sliced and unsliced rounds.
pub fn run(engine: &Engine, mix: usize, rounds: usize) -> BenchReport {
    let requests = request_mix(engine.deployment(), mix, 0x5eed_f00d);
    let mut sliced = Vec::with_capacity(mix * rounds);
    let mut unsliced = Vec::with_capacity(mix * rounds);
    let mut outcomes = [0usize; 3];
    // Warm-up: every slice and context built (startup work a server does once), allocator, classifier index.
    let warm = Instant::now();
    engine.warm();
    let warm_ms = warm.elapsed().as_secs_f64() * 1e3;
    for r in requests.iter().take(200) {
        std::hint::black_box(engine.decide(r));
    }
    let today = model::Date::today();
    for round in 0..rounds {
        for (mode, out) in [(Slicing::Sliced, &mut sliced), (Slicing::Unsliced, &mut unsliced)] {
            for r in &requests {
                let start = Instant::now();
                let d = engine.decide_with(r, mode, today);
                out.push(start.elapsed().as_secs_f64() * 1e6);
                if round == 0 && mode == Slicing::Sliced {
                    outcomes[match d.decision {
                        model::Outcome::Permit => 0,
                        model::Outcome::Deny => 1,
                        model::Outcome::Review => 2,
                    }] += 1;
                }
                std::hint::black_box(d);
            }
        }
    }
    let mut slice_sizes = 0usize;
    let mut links = 0usize;
    for r in &requests {
        for agency in r.chain() {
            if let Some(n) = engine.slice_len(&r.source, agency, &r.action) {
                slice_sizes += n;
                links += 1;
            }
        }
    }
    sliced.sort_by(f64::total_cmp);
    unsliced.sort_by(f64::total_cmp);
    let (p99, up99) = (percentile(&sliced, 0.99), percentile(&unsliced, 0.99));
    BenchReport {
        p50_us: percentile(&sliced, 0.5),
        p99_us: p99,
        policies: engine.library().policies().len(),
        mean_slice_policies: slice_sizes as f64 / links.max(1) as f64,
        unsliced_p50_us: percentile(&unsliced, 0.5),
        unsliced_p99_us: up99,
        speedup_p99: if p99 > 0.0 { up99 / p99 } else { 0.0 },
        decisions: sliced.len(),
        outcomes,
        warm_ms,
    }
}
