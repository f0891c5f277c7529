//! `fusionguard decide` and `fusionguard laws ...`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use policy::{Engine, LawLibrary, PolicyClass};

/// Arguments of `fusionguard laws`.
#[derive(Args)]
pub struct LawsArgs {
    /// The law library directory.
    #[arg(long, global = true, default_value = "laws")]
    laws: PathBuf,
    #[command(subcommand)]
    command: LawsCommand,
}

#[derive(Subcommand)]
enum LawsCommand {
    /// Run every scenario (*.cases.json) and report per-policy coverage.
    #[command(after_help = "Examples:\n  fusionguard laws test\n  fusionguard laws test --verbose | grep FAIL")]
    Test {
        /// The deployment the scenarios use.
        #[arg(long, default_value = "examples/seed-world")]
        config: PathBuf,
        /// Print every case, not only failures.
        #[arg(long, short)]
        verbose: bool,
        /// Decide the cases that name no day (`"at"`) by the law in force on this day
        /// (YYYY-MM-DD) instead of today.
        #[arg(long, value_name = "YYYY-MM-DD")]
        at: Option<model::Date>,
    },
    /// Validate the library against the schema (strict) and check every annotation.
    #[command(after_help = "Examples:\n  fusionguard laws check\n  fusionguard laws --laws ./my-laws check")]
    Check,
    /// Print the library as a table: id, jurisdiction, citation, the day it takes effect (and
    /// lapses), how far it was verified against the text, and its summary.
    #[command(
        after_help = "Verified: text (the enacted text was read: the day and address follow), summary (only a\nsecondary source was read) or unverified (what is missing follows).\n\nExamples:\n  fusionguard laws list --unverified\n  fusionguard laws list --json | jq -r 'select(.verified == \"text\") | .id'"
    )]
    List {
        /// One JSON object per line and policy (id, jurisdiction, citation, summary, effective,
        /// expires, verified, verified_detail, file).
        #[arg(long)]
        json: bool,
        /// Only the policies whose text was not read (verified `summary` or `unverified`): the gaps.
        #[arg(long)]
        unverified: bool,
        /// A Markdown table (the README's law table is this output).
        #[arg(long, conflicts_with = "json")]
        markdown: bool,
    },
    /// Show the slice for one (source, agency, action): the policies that can apply, specialised
    /// to that agency and source (every probe is a permit; the checkpoint applies each policy's
    /// effect and class itself).
    #[command(after_help = "Examples:\n  fusionguard laws slice --source ociac-alpr --agency fbi --action lookup")]
    Slice {
        /// The deployment.
        #[arg(long, default_value = "examples/seed-world")]
        config: PathBuf,
        /// Source id.
        #[arg(long)]
        source: String,
        /// Requesting agency id.
        #[arg(long)]
        agency: String,
        /// lookup, bulk_export or biometric_search.
        #[arg(long, default_value = "lookup")]
        action: String,
    },
    /// Measure decision latency over a realistic mix, sliced and unsliced.
    #[command(after_help = "Examples:\n  fusionguard laws bench --config examples/seed-world --json")]
    Bench {
        /// The deployment to generate requests for.
        #[arg(long, default_value = "examples/seed-world")]
        config: PathBuf,
        /// Distinct requests in the mix.
        #[arg(long, default_value_t = 2000)]
        mix: usize,
        /// Passes over the mix per mode.
        #[arg(long, default_value_t = 10)]
        rounds: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn load_library(laws: &Path) -> anyhow::Result<Arc<LawLibrary>> {
    Ok(Arc::new(LawLibrary::load(laws).with_context(|| format!("law library {}", laws.display()))?))
}

fn load_engine(laws: &Path, config: &Path) -> anyhow::Result<Engine> {
    let library = load_library(laws)?;
    let deployment = model::Deployment::load(&crate::embedded::config(config)?)?;
    Ok(Engine::new(library, deployment)?)
}

/// `fusionguard decide`: exit 0 for any decision, 2 for bad input (malformed JSON with line and
/// column; an unknown id, purpose, action or legal basis by name). `at`: decide by the law in force
/// on that day instead of today.
pub fn decide(config: &Path, laws: &Path, at: Option<model::Date>, request: &Path) -> anyhow::Result<ExitCode> {
    let engine = load_engine(&crate::embedded::laws(laws)?, config)?;
    let (shown, bytes) = if request == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).context("reading the request from standard input")?;
        ("<stdin>".to_string(), buf)
    } else {
        let bytes = std::fs::read(request).with_context(|| format!("cannot read {}", request.display()))?;
        (request.display().to_string(), bytes)
    };
    let request = model::Request::from_json_slice(&bytes).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    let decision = engine.decide_on(&request, at.unwrap_or_else(model::Date::today));
    if let Some(reason) = decision.reasons.iter().find(|r| r.policy.starts_with("fusionguard:unknown-")) {
        bail!("{shown}: {}", reason.summary);
    }
    println!("{}", serde_json::to_string_pretty(&decision)?);
    Ok(ExitCode::SUCCESS)
}

/// Runs `fusionguard laws ...`.
pub fn run(mut args: LawsArgs) -> anyhow::Result<ExitCode> {
    args.laws = crate::embedded::laws(&args.laws)?;
    match args.command {
        LawsCommand::Check => {
            let library = load_library(&args.laws)?;
            let count = |class| library.policies().iter().filter(|p| p.class == class).count();
            println!(
                "ok: {} policies in {} jurisdictions validate against {} (strict); {} rules, {} review, {} floor, {} obligation; digest {}",
                library.policies().len(),
                library.by_jurisdiction().len(),
                args.laws.join(policy::SCHEMA_FILE).display(),
                count(PolicyClass::Rule),
                count(PolicyClass::Review),
                count(PolicyClass::Floor),
                count(PolicyClass::Obligation),
                library.digest()
            );
            Ok(ExitCode::SUCCESS)
        }
        LawsCommand::List { json, unverified, markdown } => {
            let library = load_library(&args.laws)?;
            let mut out = String::new();
            if markdown {
                out.push_str("| Jurisdiction | Policy | Citation | In force | Verified |\n|---|---|---|---|---|\n");
            } else if !json {
                out.push_str(&format!(
                    "{:<48} {:<20} {:<52} {:<23} {:<10} SUMMARY\n",
                    "ID", "JURISDICTION", "CITATION", "EFFECTIVE", "VERIFIED"
                ));
            }
            for (jurisdiction, policies) in library.by_jurisdiction() {
                for p in policies.into_iter().filter(|p| !unverified || p.verified.level() != "text") {
                    let expires = p.expires.map(|e| e.to_string());
                    let span = match &expires {
                        Some(e) => format!("{} to {e}", p.effective),
                        None => format!("from {}", p.effective),
                    };
                    if markdown {
                        let cell = |t: &str| t.replace('|', "\\|");
                        let verified = match &p.verified {
                            policy::Verified::Text { read_on, address } => {
                                format!("text, read {read_on} ([source]({address}))")
                            }
                            policy::Verified::Summary { .. } => "summary only".to_string(),
                            policy::Verified::Unverified { missing } => format!("**unverified**: {}", cell(missing)),
                        };
                        out.push_str(&format!(
                            "| {jurisdiction} | `{}` | {} | {span} | {verified} |\n",
                            p.id,
                            cell(&p.citation)
                        ));
                    } else if json {
                        let line = serde_json::json!({
                            "id": p.id,
                            "jurisdiction": jurisdiction,
                            "citation": p.citation,
                            "summary": p.summary,
                            "effective": p.effective.to_string(),
                            "expires": expires,
                            "verified": p.verified.level(),
                            "verified_detail": p.verified.detail(),
                            "file": p.file.display().to_string(),
                        });
                        out.push_str(&format!("{line}\n"));
                    } else {
                        let summary = if unverified {
                            format!("{} [{}]", p.summary, p.verified.detail())
                        } else {
                            p.summary.clone()
                        };
                        out.push_str(&format!(
                            "{:<48} {:<20} {:<52} {span:<23} {:<10} {summary}\n",
                            p.id,
                            jurisdiction,
                            p.citation,
                            p.verified.level()
                        ));
                    }
                }
            }
            // A reader that stops early (`| head`) is not an error.
            match std::io::stdout().lock().write_all(out.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(ExitCode::SUCCESS),
            }
        }
        LawsCommand::Test { config, verbose, at } => {
            let engine = load_engine(&args.laws, &config)?;
            let report = policy::scenarios::run(&engine, &args.laws, at.unwrap_or_else(model::Date::today))?;
            for r in &report.results {
                if r.failures.is_empty() {
                    if verbose {
                        println!("ok    {} :: {} -> {}", r.file.display(), r.name, r.decision.decision.as_str());
                    }
                } else {
                    println!("FAIL  {} :: {}", r.file.display(), r.name);
                    for f in &r.failures {
                        println!("        {f}");
                    }
                }
            }
            println!("\ncoverage (cases where the policy fired / was evaluated and did not fire):");
            for (id, c) in &report.coverage {
                let mark = if c.fired == 0 || c.silent == 0 { "MISSING" } else { "ok" };
                println!("  {mark:<8} {id:<52} fired {:>3}  silent {:>3}", c.fired, c.silent);
            }
            let failed = report.failed().count();
            let uncovered = report.uncovered().count();
            println!(
                "\n{} passed, {} failed; {} of {} policies covered both ways",
                report.results.len() - failed,
                failed,
                report.coverage.len() - uncovered,
                report.coverage.len()
            );
            Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        LawsCommand::Slice { config, source, agency, action } => {
            let engine = load_engine(&args.laws, &config)?;
            match engine.slice_text(&source, &agency, &action) {
                Some(text) if text.trim().is_empty() => {
                    println!("(empty: no policy can apply; the request is denied by default)")
                }
                Some(text) => println!("{text}"),
                None => bail!("unknown source {source:?}, agency {agency:?} or action {action:?}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        LawsCommand::Bench { config, mix, rounds, json } => {
            if mix == 0 || rounds == 0 {
                bail!("--mix and --rounds must be at least 1");
            }
            let engine = load_engine(&args.laws, &config)?;
            let report = policy::bench::run(&engine, mix, rounds);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "{} decisions per mode over {} policies (mean slice {:.1} policies)",
                    report.decisions, report.policies, report.mean_slice_policies
                );
                println!("sliced:   p50 {:>8.2} us   p99 {:>8.2} us", report.p50_us, report.p99_us);
                println!("unsliced: p50 {:>8.2} us   p99 {:>8.2} us", report.unsliced_p50_us, report.unsliced_p99_us);
                println!(
                    "speedup at p99: {:.1}x; outcomes permit/deny/review: {:?}",
                    report.speedup_p99, report.outcomes
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
