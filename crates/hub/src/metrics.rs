//! Prometheus metrics, kept in atomics and rendered in the text exposition format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
pub const BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// The routes timed separately.
pub const ROUTES: &[&str] = &["requests", "reviews", "ledger", "healthz", "other"];

/// A latency histogram.
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; 13],
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, secs: f64) {
        let i = BUCKETS.iter().position(|b| secs <= *b).unwrap_or(BUCKETS.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add((secs * 1e6) as u64, Ordering::Relaxed);
    }
}

/// The ledger's figures for [`Metrics::render`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LedgerFigures {
    /// Durable entries.
    pub size: u64,
    /// Entries covered by the published checkpoint.
    pub published: u64,
    /// Whether the ledger accepts appends.
    pub up: bool,
    /// Write faults (appends refused, ledger reopened) since start.
    pub faults: u64,
    /// Group commits since the ledger was opened.
    pub group_commits: u64,
    /// Failed checkpoint publications since start.
    pub checkpoint_faults: u64,
    /// How long durable entries have waited for a checkpoint ([`ledger::Publication::lag`]).
    pub checkpoint_lag: Duration,
}

/// Every metric of the hub.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Decisions by outcome: permit, deny, review.
    pub decisions: [AtomicU64; 3],
    /// Responses by status code (index = code - 100).
    pub responses: Vec<AtomicU64>,
    /// Latency by route (index into [`ROUTES`]).
    pub latency: [Histogram; 5],
    /// Refused attempts to speak for someone else.
    pub refused: AtomicU64,
    /// Reviews decided.
    pub reviews_decided: AtomicU64,
    /// Permits answered 503 because their source's database could not answer.
    pub source_errors: AtomicU64,
    /// The checkpoint size the transparency count has reached.
    pub counted_size: AtomicU64,
    /// Ledger entries the transparency count has read (each once, unless a count was redone).
    pub counted_entries: AtomicU64,
    /// Counts of the ledger that failed (it did not verify from the last count).
    pub count_failures: AtomicU64,
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Self {
        Self { responses: (0..500).map(|_| AtomicU64::new(0)).collect(), ..Default::default() }
    }

    /// Counts a decision by its outcome.
    pub fn decided(&self, outcome: model::Outcome) {
        let slot = match outcome {
            model::Outcome::Permit => 0,
            model::Outcome::Deny => 1,
            model::Outcome::Review => 2,
        };
        self.decisions[slot].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a response and its latency.
    pub fn record(&self, route: usize, status: u16, secs: f64) {
        if let Some(c) = self.responses.get(usize::from(status).wrapping_sub(100)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(h) = self.latency.get(route) {
            h.observe(secs);
        }
    }

    /// The exposition text, with the `ledger`'s figures.
    pub fn render(&self, ledger: LedgerFigures) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# HELP fusionguard_decisions_total Decisions by outcome.");
        let _ = writeln!(s, "# TYPE fusionguard_decisions_total counter");
        for (i, o) in ["permit", "deny", "review"].iter().enumerate() {
            let _ = writeln!(
                s,
                "fusionguard_decisions_total{{outcome=\"{o}\"}} {}",
                self.decisions[i].load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(s, "# HELP fusionguard_http_responses_total HTTP responses by status code.");
        let _ = writeln!(s, "# TYPE fusionguard_http_responses_total counter");
        for (i, c) in self.responses.iter().enumerate() {
            let n = c.load(Ordering::Relaxed);
            if n > 0 {
                let _ = writeln!(s, "fusionguard_http_responses_total{{code=\"{}\"}} {n}", i + 100);
            }
        }
        let _ = writeln!(s, "# HELP fusionguard_http_request_duration_seconds Request latency by route.");
        let _ = writeln!(s, "# TYPE fusionguard_http_request_duration_seconds histogram");
        for (r, route) in ROUTES.iter().enumerate() {
            let h = &self.latency[r];
            let mut cumulative = 0;
            for (i, b) in BUCKETS.iter().enumerate() {
                cumulative += h.counts[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    s,
                    "fusionguard_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {cumulative}"
                );
            }
            cumulative += h.counts[BUCKETS.len()].load(Ordering::Relaxed);
            let _ = writeln!(
                s,
                "fusionguard_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {cumulative}"
            );
            let sum = h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(s, "fusionguard_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}");
            let _ = writeln!(s, "fusionguard_http_request_duration_seconds_count{{route=\"{route}\"}} {cumulative}");
        }
        let LedgerFigures { size, published, up, faults, group_commits: commits, checkpoint_faults, checkpoint_lag } =
            ledger;
        for (name, help, kind, v) in [
            ("fusionguard_ledger_size", "Durable ledger entries.", "gauge", size),
            ("fusionguard_ledger_checkpoint_size", "Entries covered by the published checkpoint.", "gauge", published),
            (
                "fusionguard_ledger_lag_entries",
                "Durable entries not yet covered by a checkpoint.",
                "gauge",
                size.saturating_sub(published),
            ),
            ("fusionguard_ledger_up", "1 if the ledger accepts appends.", "gauge", u64::from(up)),
            (
                "fusionguard_ledger_faults_total",
                "Ledger write faults since start (appends refused, ledger reopened; checkpoint faults are separate).",
                "counter",
                faults,
            ),
            (
                "fusionguard_ledger_checkpoint_faults_total",
                "Failed checkpoint publications since start (appends go on; the published checkpoint falls behind).",
                "counter",
                checkpoint_faults,
            ),
            (
                "fusionguard_ledger_group_commits_total",
                "Durable writes (one flush each) since the ledger was opened.",
                "counter",
                commits,
            ),
            (
                "fusionguard_refused_total",
                "Requests refused because the token spoke for someone else.",
                "counter",
                self.refused.load(Ordering::Relaxed),
            ),
            (
                "fusionguard_reviews_decided_total",
                "Reviews approved or denied.",
                "counter",
                self.reviews_decided.load(Ordering::Relaxed),
            ),
            (
                "fusionguard_source_errors_total",
                "Permits answered 503 (nothing released) because the source's database could not answer.",
                "counter",
                self.source_errors.load(Ordering::Relaxed),
            ),
            (
                "fusionguard_transparency_counted_size",
                "The checkpoint size the public pages' counts were taken at.",
                "gauge",
                self.counted_size.load(Ordering::Relaxed),
            ),
            (
                "fusionguard_transparency_entries_counted_total",
                "Ledger entries read by the public pages' count since start (each once while the ledger verifies).",
                "counter",
                self.counted_entries.load(Ordering::Relaxed),
            ),
            (
                "fusionguard_transparency_count_failures_total",
                "Counts that stopped because the ledger did not verify from the last count (the last good count stays up).",
                "counter",
                self.count_failures.load(Ordering::Relaxed),
            ),
        ] {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        }
        let name = "fusionguard_ledger_checkpoint_lag_seconds";
        let _ = writeln!(
            s,
            "# HELP {name} How long durable entries have waited for a checkpoint (0: the published checkpoint covers \
             them all); /healthz reports checkpoint-behind past 10 checkpoint intervals (at least 1 s).\n# TYPE {name} \
             gauge\n{name} {}",
            checkpoint_lag.as_secs_f64()
        );
        s
    }
}

/// The federation's metrics: requests sent to and received from each peer by outcome, failures
/// and refusals, and the split views this hub's witness has seen, per peer origin.
pub fn render_federation(
    s: &mut String,
    counts: &[(String, [u64; 4], [u64; 4])],
    split_views: &[ledger::witness::SplitView],
) {
    let outcomes = ["permit", "deny", "review"];
    let _ = writeln!(s, "# HELP fusionguard_federation_sent_total Requests sent to each peer hub, by its answer.");
    let _ = writeln!(s, "# TYPE fusionguard_federation_sent_total counter");
    for (peer, sent, _) in counts {
        for (i, o) in outcomes.iter().enumerate() {
            let _ = writeln!(s, "fusionguard_federation_sent_total{{peer=\"{peer}\",outcome=\"{o}\"}} {}", sent[i]);
        }
        let _ = writeln!(s, "fusionguard_federation_sent_total{{peer=\"{peer}\",outcome=\"failed\"}} {}", sent[3]);
    }
    let _ = writeln!(
        s,
        "# HELP fusionguard_federation_received_total Requests received from each peer hub, by this hub's decision."
    );
    let _ = writeln!(s, "# TYPE fusionguard_federation_received_total counter");
    for (peer, _, received) in counts {
        for (i, o) in outcomes.iter().enumerate() {
            let _ =
                writeln!(s, "fusionguard_federation_received_total{{peer=\"{peer}\",outcome=\"{o}\"}} {}", received[i]);
        }
        let _ =
            writeln!(s, "fusionguard_federation_received_total{{peer=\"{peer}\",outcome=\"refused\"}} {}", received[3]);
    }
    let _ = writeln!(s, "# HELP fusionguard_federation_split_views Split views of peers' ledgers this hub's witness has kept evidence of.");
    let _ = writeln!(s, "# TYPE fusionguard_federation_split_views gauge");
    let mut by_origin: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for v in split_views {
        *by_origin.entry(v.origin.as_str()).or_default() += 1;
    }
    let _ = writeln!(s, "fusionguard_federation_split_views {}", split_views.len());
    for (origin, n) in by_origin {
        let _ = writeln!(s, "fusionguard_federation_split_views{{origin=\"{origin}\"}} {n}");
    }
}
