//! Scenario tests as data: `*.cases.json` files under `laws/`, each an array of cases that a policy
//! author can read and extend without Rust.
//!
//! ```json
//! [{ "name": "ICE asks OCIAC to run a plate",
//!    "record": "Orange County, 2018 (S.T.O.P. report, exhibit 1)",
//!    "request": { ... the request JSON ... },
//!    "expect": { "decision": "deny", "policies": ["ca-civ-1798.90.55b-public-agencies-only"] } }]
//! ```
//! `policies` must all be among the decision's reasons; `obligations`, if given, must equal the
//! decision's obligations (order aside). Every case is also decided without slicing, and the two
//! decisions must agree: slicing is an optimisation, never a change of law. A case may say on which
//! day it is decided (`"at": "2026-06-30"`), to show a law before and after it takes effect.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use model::{Date, Decision, Outcome, Request};
use serde::Deserialize;

use crate::engine::{Engine, Slicing};
use crate::library::{files_with_extension, LibraryError};

/// What a case expects.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The outcome.
    pub decision: Outcome,
    /// Policy ids that must be among the reasons.
    #[serde(default)]
    pub policies: Vec<String>,
    /// If given, exactly these obligations.
    #[serde(default)]
    pub obligations: Option<Vec<String>>,
}

/// One scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// A short name.
    pub name: String,
    /// Where in the public record it comes from, if it does.
    #[serde(default)]
    pub record: Option<String>,
    /// The day the request is decided on (`YYYY-MM-DD`), by the law in force that day; absent:
    /// the day the runner is given (today, for `fusionguard laws test`).
    #[serde(default)]
    pub at: Option<Date>,
    /// The request.
    pub request: Request,
    /// The expected decision.
    pub expect: Expectation,
}

/// Why scenarios could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Listing or reading failed.
    #[error(transparent)]
    Library(#[from] LibraryError),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A file is not a valid array of cases.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

/// The result of one case.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// The file, relative to the library root.
    pub file: PathBuf,
    /// The case's name.
    pub name: String,
    /// What did not hold (empty if it passed).
    pub failures: Vec<String>,
    /// The decision made.
    pub decision: Decision,
}

/// How often a policy's conditions held, and were evaluated without holding, across all cases.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Cases in which it fired.
    pub fired: usize,
    /// Cases in which it did not fire.
    pub silent: usize,
}

/// Everything `fusionguard laws test` reports.
#[derive(Clone, Debug)]
pub struct Report {
    /// One result per case, in file order.
    pub results: Vec<CaseResult>,
    /// Per policy id, in library order.
    pub coverage: Vec<(String, Coverage)>,
}

impl Report {
    /// Cases that failed.
    pub fn failed(&self) -> impl Iterator<Item = &CaseResult> {
        self.results.iter().filter(|r| !r.failures.is_empty())
    }

    /// Policies not exercised both ways (fired in some case, silent in another).
    pub fn uncovered(&self) -> impl Iterator<Item = &(String, Coverage)> {
        self.coverage.iter().filter(|(_, c)| c.fired == 0 || c.silent == 0)
    }

    /// True if every case passed and every policy is covered both ways.
    pub fn ok(&self) -> bool {
        self.failed().next().is_none() && self.uncovered().next().is_none()
    }
}

/// Reads every `*.cases.json` under `root`.
pub fn load_cases(root: &Path) -> Result<Vec<(PathBuf, Case)>, ScenarioError> {
    let mut out = Vec::new();
    for path in files_with_extension(root, "json")? {
        if !path.to_string_lossy().ends_with(".cases.json") {
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let shown = rel.display().to_string();
        let text =
            std::fs::read_to_string(&path).map_err(|source| ScenarioError::Io { path: shown.clone(), source })?;
        let cases: Vec<Case> = serde_json::from_str(&text).map_err(|e| ScenarioError::Syntax {
            path: shown.clone(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        out.extend(cases.into_iter().map(|c| (rel.clone(), c)));
    }
    Ok(out)
}

/// What two decisions must share to be the same decision: outcome, reasons and obligations (ids and
/// order aside). Used to check sliced against unsliced evaluation.
pub fn comparable(d: &Decision) -> (Outcome, Vec<String>, Vec<String>) {
    let mut reasons: Vec<String> = d.reasons.iter().map(|r| r.policy.clone()).collect();
    let mut obligations = d.obligations.clone();
    reasons.sort();
    obligations.sort();
    (d.decision, reasons, obligations)
}

/// Runs every case under `root` and computes per-policy coverage; a case without `at` is decided
/// by the law in force on `today`.
pub fn run(engine: &Engine, root: &Path, today: Date) -> Result<Report, ScenarioError> {
    let mut coverage: BTreeMap<String, Coverage> =
        engine.library().policies().iter().map(|p| (p.id.clone(), Coverage::default())).collect();
    let mut results = Vec::new();
    for (file, case) in load_cases(root)? {
        let date = case.at.unwrap_or(today);
        let decision = engine.decide_on(&case.request, date);
        let mut failures = Vec::new();
        if decision.decision != case.expect.decision {
            failures.push(format!(
                "expected {}, got {} ({})",
                case.expect.decision.as_str(),
                decision.decision.as_str(),
                decision.reasons.iter().map(|r| r.policy.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        for p in &case.expect.policies {
            if !decision.cites_policy(p) {
                failures.push(format!("expected policy {p} among the reasons"));
            }
        }
        if let Some(expected) = &case.expect.obligations {
            let (mut want, mut got) = (expected.clone(), decision.obligations.clone());
            want.sort();
            got.sort();
            if want != got {
                failures.push(format!("expected obligations {want:?}, got {got:?}"));
            }
        }
        let unsliced = engine.decide_with(&case.request, Slicing::Unsliced, date);
        if comparable(&unsliced) != comparable(&decision) {
            failures.push(format!(
                "sliced and unsliced decisions differ: {:?} vs {:?}",
                comparable(&decision),
                comparable(&unsliced)
            ));
        }
        match engine.policy_activity(&case.request, date) {
            Ok((fired, silent)) => {
                for id in fired {
                    coverage.entry(id).or_default().fired += 1;
                }
                for id in silent {
                    coverage.entry(id).or_default().silent += 1;
                }
            }
            Err(d) => failures.push(format!("coverage evaluation failed: {}", d.reasons[0].summary)),
        }
        results.push(CaseResult { file, name: case.name, failures, decision });
    }
    let order: Vec<String> = engine.library().policies().iter().map(|p| p.id.clone()).collect();
    let coverage = order.into_iter().map(|id| {
        let c = coverage.remove(&id).unwrap_or_default();
        (id, c)
    });
    Ok(Report { results, coverage: coverage.collect() })
}
