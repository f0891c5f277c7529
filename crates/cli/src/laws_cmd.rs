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
    },
    /// Validate the library against the schema (strict) and check every annotation.
    #[command(after_help = "Examples:\n  fusionguard laws check\n  fusionguard laws --laws ./my-laws check")]
    Check,
    /// Print the library as a table: id, jurisdiction, citation, summary.
    #[command(after_help = "Examples:\n  fusionguard laws list | grep us-ca")]
    List,
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
/// column; an unknown id, purpose, action or legal basis by name).
pub fn decide(config: &Path, laws: &Path, request: &Path) -> anyhow::Result<ExitCode> {
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
    let decision = engine.decide(&request);
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
        LawsCommand::List => {
            let library = load_library(&args.laws)?;
            let mut table = format!("{:<48} {:<20} {:<60} SUMMARY\n", "ID", "JURISDICTION", "CITATION");
            for (jurisdiction, policies) in library.by_jurisdiction() {
                for p in policies {
                    table.push_str(&format!("{:<48} {:<20} {:<60} {}\n", p.id, jurisdiction, p.citation, p.summary));
                }
            }
            // A reader that stops early (`| head`) is not an error.
            match std::io::stdout().lock().write_all(table.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(ExitCode::SUCCESS),
            }
        }
        LawsCommand::Test { config, verbose } => {
            let engine = load_engine(&args.laws, &config)?;
            let report = policy::scenarios::run(&engine, &args.laws)?;
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
