//! The story of an audit before its evidence: a [`Summary`] gathered as findings stream by
//! (records read and kept, findings by detector and severity, top organisations and users,
//! searches by month, wide and nationwide searches, a few examples per detector), written as text
//! for the terminal ([`Summary::write_text`]) or as a self-contained evidence report in HTML
//! ([`html_page`]: inline SVG charts, each with its data table, every finding with its file and
//! line, the detectors' rules and citations, the names the directory could not resolve, and the
//! method in plain words). The hub's console shows the same sections ([`html_sections`]) for an
//! uploaded file.
//!
//! Memory does not grow with the findings: the summary keeps counts and at most
//! [`EXAMPLES`] findings per detector.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use model::lang::Lang;

use crate::finding::{Finding, FindingRef, Kind, Severity, Subject};
use crate::search_audit::Profile;
use crate::transparency::bar_chart;
use crate::transparency::render::{esc, open_table, STYLE};

/// Examples kept per detector.
pub const EXAMPLES: usize = 3;
/// Rows of a "top" list (organisations, users).
pub const TOP: usize = 10;

/// One input file of an audit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    /// The file as given.
    pub file: String,
    /// Records read (rows, messages, entries).
    pub read: u64,
    /// Records imported.
    pub kept: u64,
    /// Records refused (each with its reason in the import statistics).
    pub rejected: u64,
    /// Why nothing could be read from it, if so.
    pub error: Option<String>,
    /// Whose statutes its findings cite, in words (search audits), if said.
    pub jurisdiction: Option<String>,
    /// What could not be checked or was noticed while reading it.
    pub notes: Vec<String>,
}

/// A detector rule that fired: its detector, highest severity, citations and count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleCount {
    /// The detector.
    pub kind: Option<Kind>,
    /// The highest severity it gave.
    pub severity: Option<Severity>,
    /// The citations it gave (they follow the jurisdiction, so one rule may cite several).
    pub citations: BTreeSet<&'static str>,
    /// Findings.
    pub n: u64,
}

/// An audit's story, gathered as its findings stream by.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// What was audited: `searches`, `sharing`, `emails`, `intelligence` or `ledger`.
    pub command: String,
    /// The input files, in the order given.
    pub inputs: Vec<Input>,
    /// Records skipped as copies of one already read from an earlier file.
    pub duplicates: u64,
    /// Counts over the distinct searches (search audits only).
    pub profile: Option<Profile>,
    /// Findings.
    pub findings: u64,
    /// Findings per detector, by severity (`[low, medium, high]`).
    pub by_kind: BTreeMap<Kind, [u64; 3]>,
    /// Findings per rule (rules are few: a list, searched from the last one hit).
    pub by_rule: Vec<(&'static str, RuleCount)>,
    /// Findings per organisation.
    pub by_agency: Tally,
    /// Findings per user.
    pub by_user: Tally,
    /// Findings per month of their record.
    pub by_month: Months,
    /// Up to [`EXAMPLES`] findings per detector, the most severe first.
    pub examples: BTreeMap<Kind, Vec<Finding>>,
    /// Names the agency directory could not resolve (never guessed).
    pub unresolved: Vec<String>,
}

/// Counts per key, cheap for runs of one key (consecutive rows of one organisation or user):
/// the current run is counted aside and added to the map when the key changes.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    map: HashMap<String, u64>,
    run: Option<(String, u64)>,
}

impl Tally {
    /// Counts `key` once.
    pub fn add(&mut self, key: &str) {
        match &mut self.run {
            Some((k, n)) if k == key => *n += 1,
            run => {
                if let Some((k, n)) = run.take() {
                    *self.map.entry(k).or_default() += n;
                }
                *run = Some((key.to_owned(), 1));
            }
        }
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, other: Tally) {
        for (k, n) in other.map.into_iter().chain(other.run) {
            *self.map.entry(k).or_default() += n;
        }
    }

    /// The counts (the current run included).
    pub fn counts(&self) -> HashMap<String, u64> {
        let mut map = self.map.clone();
        if let Some((k, n)) = &self.run {
            *map.entry(k.clone()).or_default() += n;
        }
        map
    }

    /// The count of `key`.
    pub fn get(&self, key: &str) -> u64 {
        self.map.get(key).copied().unwrap_or(0) + self.run.as_ref().filter(|(k, _)| k == key).map_or(0, |r| r.1)
    }

    /// Distinct keys.
    pub fn len(&self) -> usize {
        self.map.len() + usize::from(self.run.as_ref().is_some_and(|(k, _)| !self.map.contains_key(k)))
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.run.is_none() && self.map.is_empty()
    }

    /// The keys with the largest counts, at most `n`, ties by name.
    pub fn top(&self, n: usize) -> Vec<(String, u64)> {
        top(&self.counts(), n)
    }
}

impl PartialEq for Tally {
    fn eq(&self, other: &Self) -> bool {
        self.counts() == other.counts()
    }
}

impl serde::Serialize for Tally {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let sorted: BTreeMap<String, u64> = self.counts().into_iter().collect();
        sorted.serialize(s)
    }
}

/// Counts per calendar month (`YYYY-MM`), cheap for rows in time order: the month of the last day
/// seen and where its count is are remembered. Serialized as a map from `YYYY-MM` to the count, in
/// calendar order.
#[derive(Clone, Debug, Default)]
pub struct Months {
    /// Counts by (year, month), in calendar order (an export spans a few months).
    counts: Vec<((i64, u32), u64)>,
    /// The last day counted (days since 1970-01-01) and the index of its month in `counts`.
    last: Option<(i64, usize)>,
}

impl PartialEq for Months {
    fn eq(&self, other: &Self) -> bool {
        self.counts == other.counts
    }
}

impl Eq for Months {}

impl serde::Serialize for Months {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.rows())
    }
}

impl Months {
    /// Counts the month of `t`.
    pub fn add(&mut self, t: crate::time::Timestamp) {
        let day = t.seconds().div_euclid(86_400);
        let at = match self.last {
            Some((d, at)) if d == day => at,
            _ => {
                let (y, m, _) = t.date();
                let at = self.slot((y, m));
                self.last = Some((day, at));
                at
            }
        };
        self.counts[at].1 += 1;
    }

    /// The index of `month`'s count, inserted (at zero) in calendar order if new.
    fn slot(&mut self, month: (i64, u32)) -> usize {
        match self.counts.binary_search_by_key(&month, |&(m, _)| m) {
            Ok(at) => at,
            Err(at) => {
                self.counts.insert(at, (month, 0));
                // Indexes after it moved on by one.
                self.last = None;
                at
            }
        }
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, other: Months) {
        for (month, n) in other.counts {
            let at = self.slot(month);
            self.counts[at].1 += n;
        }
    }

    /// The months (`YYYY-MM`) in calendar order with their counts.
    pub fn rows(&self) -> Vec<(String, u64)> {
        self.counts.iter().map(|((y, m), n)| (format!("{y:04}-{m:02}"), *n)).collect()
    }

    /// The total counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|(_, n)| n).sum()
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// The rows of `map` with the largest counts, at most `n`, ties by name.
pub fn top(map: &HashMap<String, u64>, n: usize) -> Vec<(String, u64)> {
    let mut rows: Vec<(String, u64)> = map.iter().map(|(k, v)| (k.clone(), *v)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows.truncate(n);
    rows
}

fn sev_index(s: Severity) -> usize {
    match s {
        Severity::Low => 0,
        Severity::Medium => 1,
        Severity::High => 2,
    }
}

/// `n` of `of` as a percentage with one decimal.
fn pct(n: u64, of: u64) -> String {
    if of == 0 {
        "0%".into()
    } else {
        format!("{:.1}%", n as f64 * 100.0 / of as f64)
    }
}

/// Keeps a finding of severity `severity` (made by `f`) among a detector's examples `ex` when
/// fewer than [`EXAMPLES`] are kept or it is more severe than the least severe of them: the most
/// severe are kept, the earliest first among equals.
fn keep_example(ex: &mut Vec<Finding>, severity: Severity, f: impl FnOnce() -> Finding) {
    if ex.len() >= EXAMPLES {
        if ex.last().is_none_or(|l| l.severity >= severity) {
            return;
        }
        ex.pop();
    }
    ex.push(f());
    ex.sort_by_key(|e| std::cmp::Reverse(e.severity));
}

/// A count with thousands separators (`7,273`).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Summary {
    /// An empty summary of a `command` audit.
    pub fn new(command: &str) -> Self {
        Self { command: command.to_owned(), ..Default::default() }
    }

    /// Counts one finding.
    pub fn push(&mut self, f: &Finding) {
        self.push_ref(&f.view());
    }

    /// Counts one finding, borrowed (it is copied only when it is kept as an example).
    pub fn push_ref(&mut self, f: &FindingRef) {
        self.findings += 1;
        self.by_kind.entry(f.kind).or_default()[sev_index(f.severity)] += 1;
        let r = self.rule_count(f.rule);
        r.kind = Some(f.kind);
        r.severity = r.severity.max(Some(f.severity));
        if !f.citation.is_empty() {
            r.citations.insert(f.citation);
        }
        r.n += 1;
        if let Some(a) = f.agency_of() {
            self.by_agency.add(a);
        }
        if let Some(u) = f.user {
            self.by_user.add(u);
        }
        if let Some(t) = f.time {
            self.by_month.add(t);
        }
        keep_example(self.examples.entry(f.kind).or_default(), f.severity, || f.to_finding());
    }

    /// Adds the findings counted in `later` (findings that came after this summary's), as if
    /// they had been pushed here one by one: counts added, rules in the order first met, and the
    /// examples those of all the findings (an example `later` did not keep would not have been
    /// kept here either, and the most severe are kept, the earliest first among equals).
    pub fn merge_findings(&mut self, later: Summary) {
        self.findings += later.findings;
        for (kind, n) in later.by_kind {
            let to = self.by_kind.entry(kind).or_default();
            to.iter_mut().zip(n).for_each(|(a, b)| *a += b);
        }
        for (rule, count) in later.by_rule {
            let r = self.rule_count(rule);
            r.kind = count.kind.or(r.kind);
            r.severity = r.severity.max(count.severity);
            r.citations.extend(count.citations);
            r.n += count.n;
        }
        self.by_agency.merge(later.by_agency);
        self.by_user.merge(later.by_user);
        self.by_month.merge(later.by_month);
        for (kind, examples) in later.examples {
            let ex = self.examples.entry(kind).or_default();
            for f in examples {
                keep_example(ex, f.severity, || f);
            }
        }
    }

    /// The count of `rule`, added (empty) after the rules met so far if it is new. Rules are few:
    /// a list, searched from the last one hit.
    fn rule_count(&mut self, rule: &'static str) -> &mut RuleCount {
        let i = match self.by_rule.iter().rposition(|(r, _)| std::ptr::eq(*r, rule) || *r == rule) {
            Some(i) => i,
            None => {
                self.by_rule.push((rule, RuleCount::default()));
                self.by_rule.len() - 1
            }
        };
        &mut self.by_rule[i].1
    }

    /// Records read over all inputs.
    pub fn read(&self) -> u64 {
        self.inputs.iter().map(|i| i.read).sum()
    }

    /// Records kept over all inputs.
    pub fn kept(&self) -> u64 {
        self.inputs.iter().map(|i| i.kept).sum()
    }

    /// Findings per detector, by severity, most severe detectors first.
    fn kinds_by_severity(&self) -> Vec<(Kind, [u64; 3])> {
        let mut rows: Vec<(Kind, [u64; 3])> = self.by_kind.iter().map(|(k, v)| (*k, *v)).collect();
        rows.sort_by(|a, b| (b.1[2], b.1[1], b.1[0]).cmp(&(a.1[2], a.1[1], a.1[0])).then(a.0.cmp(&b.0)));
        rows
    }

    /// The summary as text, for the terminal: inputs, searches, findings by detector and
    /// severity, top organisations and users, and examples.
    pub fn write_text(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let n = self.inputs.len();
        writeln!(w, "Audit of {} ({n} file{}):", self.command, if n == 1 { "" } else { "s" })?;
        for i in &self.inputs {
            match &i.error {
                Some(e) => writeln!(w, "  {}: NOT READ: {e}", i.file)?,
                None => writeln!(
                    w,
                    "  {}: {} records read, {} kept, {} rejected",
                    i.file,
                    thousands(i.read),
                    thousands(i.kept),
                    thousands(i.rejected)
                )?,
            }
            if let Some(j) = &i.jurisdiction {
                writeln!(w, "    citations: {j}")?;
            }
            for note in &i.notes {
                writeln!(w, "    note: {note}")?;
            }
        }
        if self.duplicates > 0 {
            writeln!(
                w,
                "  {} rows were copies of a search already read from another file (same search ID): counted once",
                thousands(self.duplicates)
            )?;
        }
        if let Some(p) = &self.profile {
            writeln!(w)?;
            writeln!(
                w,
                "Searches: {} distinct; {} wide ({}), {} nationwide ({}); {} without a case number ({})",
                thousands(p.searches),
                thousands(p.wide),
                pct(p.wide, p.searches),
                thousands(p.nationwide),
                pct(p.nationwide, p.searches),
                thousands(p.no_case),
                pct(p.no_case, p.searches)
            )?;
            if !p.by_month.is_empty() {
                let months: Vec<String> =
                    p.by_month.rows().iter().map(|(m, n)| format!("{m} {}", thousands(*n))).collect();
                writeln!(w, "  by month: {}", months.join(", "))?;
            }
            for (title, map) in [("organisations", &p.by_org), ("users", &p.by_user)] {
                if !map.is_empty() {
                    let rows: Vec<String> = map.top(5).iter().map(|(k, n)| format!("{k} {}", thousands(*n))).collect();
                    writeln!(
                        w,
                        "  top {title} by searches ({} in all): {}",
                        thousands(map.len() as u64),
                        rows.join(", ")
                    )?;
                }
            }
        }
        writeln!(w)?;
        writeln!(w, "Findings: {}", thousands(self.findings))?;
        if self.findings > 0 {
            let rows: Vec<[String; 5]> = self
                .kinds_by_severity()
                .iter()
                .map(|(k, c)| {
                    [
                        k.as_str().to_owned(),
                        thousands(c[2]),
                        thousands(c[1]),
                        thousands(c[0]),
                        thousands(c.iter().sum()),
                    ]
                })
                .collect();
            write_table(w, "  ", ["DETECTOR", "HIGH", "MEDIUM", "LOW", "TOTAL"], &rows)?;
            for (title, map) in [("organisations", &self.by_agency), ("users", &self.by_user)] {
                if !map.is_empty() {
                    let rows: Vec<String> = map.top(5).iter().map(|(k, n)| format!("{k} {}", thousands(*n))).collect();
                    writeln!(w, "  top {title} by findings: {}", rows.join(", "))?;
                }
            }
            writeln!(w)?;
            writeln!(w, "Examples:")?;
            for (kind, _) in self.kinds_by_severity() {
                for f in self.examples.get(&kind).into_iter().flatten() {
                    writeln!(
                        w,
                        "  {} ({}) {}line {} {}: {}",
                        kind.as_str(),
                        f.severity.as_str(),
                        f.file.as_deref().map(|f| format!("{f} ")).unwrap_or_default(),
                        f.line,
                        f.subject.label(),
                        one_line(&f.evidence, 140)
                    )?;
                }
            }
        }
        if !self.unresolved.is_empty() {
            writeln!(w)?;
            writeln!(w, "{} names the agency directory could not resolve (never guessed):", self.unresolved.len())?;
            for u in self.unresolved.iter().take(20) {
                writeln!(w, "  {u}")?;
            }
            if self.unresolved.len() > 20 {
                writeln!(w, "  ... and {} more (--out report.html lists them all)", self.unresolved.len() - 20)?;
            }
        }
        Ok(())
    }
}

/// `s` on one line, cut to `max` characters.
pub fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if flat.chars().count() <= max {
        flat
    } else {
        let mut t: String = flat.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// A text table with `indent` before every line; the last column is not padded.
pub fn write_table<const N: usize>(
    w: &mut dyn std::io::Write,
    indent: &str,
    header: [&str; N],
    rows: &[[String; N]],
) -> std::io::Result<()> {
    let mut widths = header.map(|h| h.chars().count());
    for r in rows {
        for (wd, c) in widths.iter_mut().zip(r) {
            *wd = (*wd).max(c.chars().count());
        }
    }
    let mut line = |cells: &[&str]| -> std::io::Result<()> {
        let mut s = String::from(indent);
        for (i, (c, wd)) in cells.iter().zip(widths).enumerate() {
            s.push_str(c);
            if i + 1 < N {
                s.extend(std::iter::repeat_n(' ', wd - c.chars().count() + 2));
            }
        }
        writeln!(w, "{s}")
    };
    line(&header)?;
    for r in rows {
        line(&r.iter().map(String::as_str).collect::<Vec<_>>())?;
    }
    Ok(())
}

/// Every message of the evidence report: key, English, Spanish.
const MESSAGES: &[(&str, &str, &str)] = &[
    ("title", "Evidence report: {0} audit", "Informe de pruebas: auditoría de {0}"),
    (
        "lead",
        "What the audit found, first as a story and then record by record. Every finding names the file and line of the record it rests on.",
        "Lo que encontró la auditoría, primero como relato y luego registro por registro. Cada hallazgo indica el archivo y la línea del registro en que se basa.",
    ),
    (
        "totals",
        "{0} records read from {1} file(s), {2} kept; {3} findings.",
        "{0} registros leídos de {1} archivo(s), {2} conservados; {3} hallazgos.",
    ),
    ("h.inputs", "What was read", "Qué se leyó"),
    ("h.searches", "The searches", "Las búsquedas"),
    ("h.findings", "Findings by detector and severity", "Hallazgos por detector y gravedad"),
    ("h.examples", "Examples", "Ejemplos"),
    ("h.rules", "Detectors, rules and citations", "Detectores, reglas y citas"),
    ("h.unresolved", "Names not resolved", "Nombres no resueltos"),
    ("h.method", "Method", "Método"),
    ("h.list", "Every finding, most severe first", "Todos los hallazgos, los más graves primero"),
    ("col.file", "File", "Archivo"),
    ("col.read", "Read", "Leídos"),
    ("col.kept", "Kept", "Conservados"),
    ("col.rejected", "Rejected", "Rechazados"),
    ("col.citations", "Citations follow", "Las citas siguen"),
    ("col.detector", "Detector", "Detector"),
    ("col.high", "High", "Alta"),
    ("col.medium", "Medium", "Media"),
    ("col.low", "Low", "Baja"),
    ("col.total", "Total", "Total"),
    ("col.rule", "Rule", "Regla"),
    ("col.what", "What it finds", "Qué detecta"),
    ("col.citation", "Citation", "Cita"),
    ("col.n", "Findings", "Hallazgos"),
    ("col.severity", "Severity", "Gravedad"),
    ("col.record", "Record", "Registro"),
    ("col.where", "File and line", "Archivo y línea"),
    ("col.evidence", "Evidence", "Pruebas"),
    ("col.month", "Month", "Mes"),
    ("col.org", "Organisation", "Organización"),
    ("col.user", "User", "Usuario"),
    ("col.searches", "Searches", "Búsquedas"),
    ("col.measure", "Measure", "Medida"),
    ("col.value", "Value", "Valor"),
    ("not_read", "not read: {0}", "no leído: {0}"),
    ("also_in", "also in {0}", "también en {0}"),
    ("practice", "practice concern (no statute cited)", "cuestión de práctica (sin ley citada)"),
    (
        "duplicates",
        "{0} rows were copies of a search already read from another file (the same search ID): each search is counted once, and its findings name every file that holds it.",
        "{0} filas eran copias de una búsqueda ya leída en otro archivo (el mismo ID de búsqueda): cada búsqueda se cuenta una vez, y sus hallazgos nombran todos los archivos que la contienen.",
    ),
    ("m.searches", "Distinct searches", "Búsquedas distintas"),
    ("m.wide", "Wide searches", "Búsquedas amplias"),
    ("m.nationwide", "Nationwide searches (1,000 networks or more)", "Búsquedas nacionales (1.000 redes o más)"),
    ("m.no_case", "Searches without a case number", "Búsquedas sin número de caso"),
    ("chart.month", "Searches by month", "Búsquedas por mes"),
    ("chart.orgs", "Top organisations by searches", "Principales organizaciones por búsquedas"),
    ("chart.users", "Top users by searches", "Principales usuarios por búsquedas"),
    ("chart.kind", "Findings by detector", "Hallazgos por detector"),
    ("chart.f_orgs", "Top organisations by findings", "Principales organizaciones por hallazgos"),
    ("chart.f_users", "Top users by findings", "Principales usuarios por hallazgos"),
    ("chart.f_month", "Findings by month of the record", "Hallazgos por mes del registro"),
    ("none", "No findings.", "Ningún hallazgo."),
    (
        "shown",
        "The first {0} of {1} findings are listed here; the JSON lines, CSV or Parquet output (<code>--format</code>) holds them all.",
        "Aquí se listan los primeros {0} de {1} hallazgos; la salida JSON lines, CSV o Parquet (<code>--format</code>) los contiene todos.",
    ),
    (
        "unresolved.lead",
        "The agency directory could not tell what these names are. They are reported, never guessed; a finding that depends on them is not made.",
        "El directorio de agencias no pudo identificar estos nombres. Se informan, nunca se adivinan; no se hace ningún hallazgo que dependa de ellos.",
    ),
    (
        "method.common",
        "FusionGuard read the files as they were released, row by row, without changing them. Rows it could not read are counted as rejected with their line and reason, never dropped silently. Each detector applies a stated rule to each record; a finding quotes the text it rests on. Severity: high shows on its face what a law forbids or a circumvention pattern; medium needs an explanation from the agency; low is worth a look in aggregate. Citations follow the jurisdiction of the agency audited; where no statute applies, the finding says it is a practice concern. A finding is a lead for a human reviewer, not a conclusion.",
        "FusionGuard leyó los archivos tal como se publicaron, fila por fila, sin modificarlos. Las filas que no pudo leer se cuentan como rechazadas con su línea y motivo, nunca se descartan en silencio. Cada detector aplica una regla explícita a cada registro; un hallazgo cita el texto en que se basa. Gravedad: alta muestra a simple vista lo que una ley prohíbe o un patrón de elusión; media requiere una explicación de la agencia; baja merece una revisión en conjunto. Las citas siguen la jurisdicción de la agencia auditada; donde no se aplica ninguna ley, el hallazgo dice que es una cuestión de práctica. Un hallazgo es una pista para una persona revisora, no una conclusión.",
    ),
    (
        "method.searches",
        "Search audits: the reason, offence type and prompt of each search are read for immigration and protected-activity purposes (with the context that flips a word, such as \"ice storm\"), and for vague reasons without a case number. Wide searches are those of at least 100 networks or 1,000 cameras. Off-hours and burst findings compare each user with their own habits and state the time zone assumed. Outlier users are those whose volume, width or share of searches without a case number has a robust z-score above 3.5 among at least five peers of the same organisation. The same search in several files (the same search ID) is counted once.",
        "Auditorías de búsquedas: se leen el motivo, el tipo de delito y el texto de cada búsqueda en busca de fines migratorios y de actividades protegidas (con el contexto que cambia el sentido de una palabra, como \"ice storm\"), y de motivos vagos sin número de caso. Son búsquedas amplias las de al menos 100 redes o 1.000 cámaras. Los hallazgos fuera de horario y de ráfagas comparan a cada usuario con sus propios hábitos e indican la zona horaria supuesta. Son usuarios atípicos aquellos cuyo volumen, amplitud o proporción de búsquedas sin número de caso tiene una puntuación z robusta superior a 3,5 entre al menos cinco pares de la misma organización. La misma búsqueda en varios archivos (el mismo ID de búsqueda) se cuenta una vez.",
    ),
    (
        "method.emails",
        "Email productions: each message's senders and recipients are resolved through the agency directory by their domain (immigration enforcement, other DHS, other federal, not federal), personal mail services on official business are counted by a hash of the address, never printed, and the subject and body are read for immigration purposes.",
        "Producciones de correo: los remitentes y destinatarios de cada mensaje se identifican en el directorio de agencias por su dominio (control migratorio, otro DHS, otro federal, no federal); los servicios de correo personal usados para asuntos oficiales se cuentan por un hash de la dirección, nunca se imprimen, y el asunto y el cuerpo se leen en busca de fines migratorios.",
    ),
    (
        "method.sharing",
        "Sharing lists: each recipient is resolved through the agency directory (never guessed) and checked against the laws of the sharing agency's state, such as California's SB 34 and Illinois' 625 ILCS 5/2-130.",
        "Listas de intercambio: cada destinatario se identifica en el directorio de agencias (nunca se adivina) y se compara con las leyes del estado de la agencia que comparte, como la SB 34 de California y la 625 ILCS 5/2-130 de Illinois.",
    ),
    (
        "method.intelligence",
        "Criminal intelligence records: records held more than five years after entry or their last review are found (28 CFR 23.20(h)).",
        "Registros de inteligencia criminal: se detectan los registros conservados más de cinco años después de su entrada o de su última revisión (28 CFR 23.20(h)).",
    ),
    (
        "method.ledger",
        "Hub ledger: the ledger is verified against its signed checkpoint first; then requests by immigration enforcement, and local requests on the same subject after a federal denial, are found.",
        "Registro del hub: primero se verifica el registro con su punto de control firmado; luego se detectan las solicitudes del control migratorio y las solicitudes locales sobre el mismo sujeto tras una denegación federal.",
    ),
    (
        "method.federation",
        "Federated hubs' ledgers: each is verified against its signed checkpoint first; then every request one hub sent to another is looked for in the other's ledger (the same nonce, sender and index), the two records of a request are compared field by field, each peer receipt is checked against the entry it names, and direct requests on one hub are found that follow a denial on another hub on the same subject. A request sent within the grace period of the other ledger's newest entry is in flight, not missing.",
        "Registros de centros federados: primero se verifica cada uno con su punto de control firmado; luego cada solicitud que un centro envió a otro se busca en el registro del otro (el mismo nonce, remitente e índice), los dos registros de una solicitud se comparan campo por campo, cada recibo de otro centro se comprueba con la entrada que señala, y se detectan solicitudes directas a un centro que siguen a una denegación en otro centro sobre el mismo sujeto. Una solicitud enviada dentro del margen de gracia respecto de la entrada más reciente del otro registro está en curso, no falta.",
    ),
    ("generated", "Made by {0}.", "Generado por {0}."),
];

fn t(lang: Lang, key: &str) -> &'static str {
    match MESSAGES.iter().find(|(k, _, _)| *k == key) {
        Some((_, en, es)) => lang.pick(en, es),
        None => {
            debug_assert!(false, "no message {key:?}");
            ""
        }
    }
}

fn f(lang: Lang, key: &str, args: &[&str]) -> String {
    model::lang::fill(t(lang, key), args)
}

/// What each detector finds, in plain words, in `lang`.
pub fn kind_words(kind: Kind, lang: Lang) -> &'static str {
    let (en, es) = match kind {
        Kind::ImmigrationPurpose => (
            "A reason, justification or message shows an immigration-enforcement purpose.",
            "Un motivo, justificación o mensaje muestra un fin de control migratorio.",
        ),
        Kind::FederalOriginator => (
            "The searching organisation, sender or copy is federal or immigration enforcement.",
            "La organización que busca, el remitente o una copia es federal o de control migratorio.",
        ),
        Kind::VagueReason => (
            "A reason too vague to audit, with no case number or identifier.",
            "Un motivo demasiado vago para auditarlo, sin número de caso ni identificador.",
        ),
        Kind::WideSearch => ("A search across many networks or cameras.", "Una búsqueda en muchas redes o cámaras."),
        Kind::OffHours => (
            "A search at an hour the user almost never searches.",
            "Una búsqueda a una hora en que el usuario casi nunca busca.",
        ),
        Kind::Burst => {
            ("Many searches by one user within minutes.", "Muchas búsquedas de un usuario en pocos minutos.")
        }
        Kind::ProtectedActivity => (
            "Protected activity (protest, religion, reproductive care) given as the purpose.",
            "Una actividad protegida (protesta, religión, salud reproductiva) dada como fin.",
        ),
        Kind::ForbiddenSharing => (
            "Data shared with a recipient the law forbids (out of state, federal).",
            "Datos compartidos con un destinatario que la ley prohíbe (de otro estado, federal).",
        ),
        Kind::VendorPassThrough => (
            "Data reaching a recipient through a vendor or a non-agency account.",
            "Datos que llegan a un destinatario a través de un proveedor o de una cuenta ajena a la agencia.",
        ),
        Kind::UnresolvedAgency => (
            "A name the agency directory could not resolve (reported, never guessed).",
            "Un nombre que el directorio de agencias no pudo resolver (se informa, nunca se adivina).",
        ),
        Kind::NonEmailSender => (
            "A sender that is not an email address (e.g. an Exchange X.500 address).",
            "Un remitente que no es una dirección de correo (p. ej., una dirección X.500 de Exchange).",
        ),
        Kind::RetentionExceeded => (
            "Criminal intelligence held past its retention limit without review.",
            "Inteligencia criminal conservada más allá de su plazo sin revisión.",
        ),
        Kind::SideDoor => (
            "Immigration enforcement reaching local data around the checkpoint.",
            "El control migratorio llega a datos locales eludiendo el punto de control.",
        ),
        Kind::RetryUntilPermitted => (
            "A user denied repeatedly on one subject, then permitted.",
            "Un usuario denegado varias veces sobre un sujeto y luego autorizado.",
        ),
        Kind::PersonalAccount => (
            "Official business sent from or to a personal mail account.",
            "Asuntos oficiales enviados desde o hacia una cuenta de correo personal.",
        ),
        Kind::OutlierUser => (
            "A user far above the peers of their organisation (robust z-score above 3.5).",
            "Un usuario muy por encima de sus pares de la misma organización (puntuación z robusta superior a 3,5).",
        ),
        Kind::PlateManyUsers => (
            "One plate searched by many users or organisations within a short window.",
            "Una matrícula buscada por muchos usuarios u organizaciones en poco tiempo.",
        ),
        Kind::SensitivePurpose => (
            "An organisation's searches with an immigration or reproductive-care purpose, counted.",
            "Las búsquedas de una organización con fines migratorios o de salud reproductiva, contadas.",
        ),
        Kind::PolicyContradiction => (
            "Sharing that contradicts the agency's own published policy (a practice concern).",
            "Un intercambio que contradice la política publicada por la propia agencia (una cuestión de práctica).",
        ),
        Kind::UnmatchedHop => (
            "A request one hub's ledger says went to or came from a peer hub, missing from the peer's ledger.",
            "Una solicitud que el registro de un centro dice enviada a otro centro o recibida de él, ausente del registro de ese otro centro.",
        ),
        Kind::ChainMismatch => (
            "A forwarded request logged differently by the two hubs, or changed by a relaying hub.",
            "Una solicitud reenviada que los dos centros registran de forma distinta, o que un centro intermedio modificó.",
        ),
        Kind::ReceiptMismatch => (
            "A peer hub's receipt that does not name the peer's ledger entry for the request.",
            "Un recibo de otro centro que no señala la entrada del registro de ese centro para la solicitud.",
        ),
        Kind::DeniedElsewhere => (
            "A subject denied on one hub, then asked directly on another.",
            "Un sujeto denegado en un centro y luego consultado directamente en otro.",
        ),
        Kind::ModerationBlocked => (
            "A search the vendor's moderation blocked: an attempted search.",
            "Una búsqueda bloqueada por la moderación del proveedor: un intento de búsqueda.",
        ),
    };
    lang.pick(en, es)
}

fn severity_word(s: Severity, lang: Lang) -> &'static str {
    match s {
        Severity::High => t(lang, "col.high"),
        Severity::Medium => t(lang, "col.medium"),
        Severity::Low => t(lang, "col.low"),
    }
}

/// Where a finding was read: `FILE, line N` (a link to the file, relative to the report) and any
/// other files that hold the same record.
fn place(fd: &Finding, lang: Lang) -> String {
    let mut s = match &fd.file {
        Some(file) => format!("<a href=\"{}\">{}</a>:{}", esc(&file_href(file)), esc(file), fd.line),
        None => match &fd.subject {
            Subject::LedgerEntry { entry, .. } => format!("#{entry}"),
            _ => format!("{}", fd.line),
        },
    };
    if !fd.also_in.is_empty() {
        let others: Vec<String> = fd.also_in.iter().map(|l| format!("{}:{}", esc(&l.file), l.line)).collect();
        let _ = write!(s, "<br><small>{}</small>", f(lang, "also_in", &[&others.join(", ")]));
    }
    s
}

/// A link to a local file: the path as written, with characters a URL cannot hold escaped.
fn file_href(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/._-~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A chart and the table of its numbers.
fn chart_table(
    out: &mut String,
    id: &str,
    title: &str,
    (head, count): (&str, &str),
    rows: &[(String, u64)],
    lang: Lang,
) {
    if rows.is_empty() {
        return;
    }
    let bars: Vec<(&str, u64)> = rows.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    out.push_str(&bar_chart(id, title, &bars, lang));
    open_table(out, &format!("<table><caption>{}</caption>", esc(title)), &[&esc(head), &esc(count)]);
    for (k, n) in rows {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th><td data-m>{n}</td></tr>", esc(k));
    }
    out.push_str("</tbody></table>");
}

/// The sections of the evidence report without the list of findings (the console pages its own
/// list): what was read, the searches, findings by detector and severity with charts, examples,
/// the rules and citations, the names not resolved, and the method. Headings start at `<h2>`.
pub fn html_sections(s: &Summary, lang: Lang) -> String {
    let mut o = String::with_capacity(16 * 1024);
    let _ = write!(
        o,
        "<p class=\"totals\"><strong>{}</strong></p>",
        esc(&f(
            lang,
            "totals",
            &[&thousands(s.read()), &s.inputs.len().to_string(), &thousands(s.kept()), &thousands(s.findings)]
        ))
    );
    let _ = write!(o, "<h2 id=\"inputs\">{}</h2>", t(lang, "h.inputs"));
    let heads = ["col.file", "col.read", "col.kept", "col.rejected", "col.citations"].map(|k| t(lang, k));
    open_table(&mut o, "<table aria-labelledby=\"inputs\">", &heads);
    for i in &s.inputs {
        let _ = write!(o, "<tr><th scope=\"row\">{}", esc(&i.file));
        if let Some(e) = &i.error {
            let _ = write!(o, "<br><strong>{}</strong>", esc(&f(lang, "not_read", &[e])));
        }
        for n in &i.notes {
            let _ = write!(o, "<br><small>{}</small>", esc(n));
        }
        let _ = write!(
            o,
            "</th><td data-m>{}</td><td data-m>{}</td><td data-m>{}</td><td>{}</td></tr>",
            i.read,
            i.kept,
            i.rejected,
            esc(i.jurisdiction.as_deref().unwrap_or("—"))
        );
    }
    o.push_str("</tbody></table>");
    if s.duplicates > 0 {
        let _ = write!(o, "<p>{}</p>", esc(&f(lang, "duplicates", &[&thousands(s.duplicates)])));
    }
    if let Some(p) = &s.profile {
        let _ = write!(o, "<h2 id=\"searches\">{}</h2>", t(lang, "h.searches"));
        open_table(
            &mut o,
            "<table aria-labelledby=\"searches\">",
            &[t(lang, "col.measure"), t(lang, "col.value"), "%"],
        );
        for (key, n) in
            [("m.searches", p.searches), ("m.wide", p.wide), ("m.nationwide", p.nationwide), ("m.no_case", p.no_case)]
        {
            let _ = write!(
                o,
                "<tr><th scope=\"row\">{}</th><td data-m>{n}</td><td data-m>{}</td></tr>",
                t(lang, key),
                pct(n, p.searches)
            );
        }
        o.push_str("</tbody></table>");
        chart_table(
            &mut o,
            "smonth",
            t(lang, "chart.month"),
            (t(lang, "col.month"), t(lang, "col.searches")),
            &p.by_month.rows(),
            lang,
        );
        chart_table(
            &mut o,
            "sorg",
            t(lang, "chart.orgs"),
            (t(lang, "col.org"), t(lang, "col.searches")),
            &p.by_org.top(TOP),
            lang,
        );
        chart_table(
            &mut o,
            "suser",
            t(lang, "chart.users"),
            (t(lang, "col.user"), t(lang, "col.searches")),
            &p.by_user.top(TOP),
            lang,
        );
    }
    let _ = write!(o, "<h2 id=\"findings\">{}</h2>", t(lang, "h.findings"));
    if s.findings == 0 {
        let _ = write!(o, "<p>{}</p>", t(lang, "none"));
    } else {
        let kinds = s.kinds_by_severity();
        let heads = ["col.detector", "col.high", "col.medium", "col.low", "col.total"].map(|k| t(lang, k));
        open_table(&mut o, &format!("<table><caption>{}</caption>", t(lang, "h.findings")), &heads);
        for (k, c) in &kinds {
            let _ = write!(
                o,
                "<tr><th scope=\"row\"><code>{}</code></th><td data-m>{}</td><td data-m>{}</td><td data-m>{}</td><td data-m>{}</td></tr>",
                k.as_str(),
                c[2],
                c[1],
                c[0],
                c.iter().sum::<u64>()
            );
        }
        o.push_str("</tbody></table>");
        let bars: Vec<(String, u64)> = kinds.iter().map(|(k, c)| (k.as_str().to_owned(), c.iter().sum())).collect();
        let bar_rows: Vec<(&str, u64)> = bars.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        o.push_str(&bar_chart("fkind", t(lang, "chart.kind"), &bar_rows, lang));
        chart_table(
            &mut o,
            "forg",
            t(lang, "chart.f_orgs"),
            (t(lang, "col.org"), t(lang, "col.n")),
            &s.by_agency.top(TOP),
            lang,
        );
        chart_table(
            &mut o,
            "fuser",
            t(lang, "chart.f_users"),
            (t(lang, "col.user"), t(lang, "col.n")),
            &s.by_user.top(TOP),
            lang,
        );
        chart_table(
            &mut o,
            "fmonth",
            t(lang, "chart.f_month"),
            (t(lang, "col.month"), t(lang, "col.n")),
            &s.by_month.rows(),
            lang,
        );
        let _ = write!(o, "<h2 id=\"examples\">{}</h2>", t(lang, "h.examples"));
        let examples: Vec<Finding> =
            kinds.iter().flat_map(|(k, _)| s.examples.get(k).into_iter().flatten().cloned()).collect();
        o.push_str(&findings_table(&examples, lang));
    }
    let _ = write!(o, "<h2 id=\"rules\">{}</h2>", t(lang, "h.rules"));
    let mut rules: Vec<&(&'static str, RuleCount)> = s.by_rule.iter().collect();
    rules.sort_by_key(|(rule, _)| *rule);
    if !rules.is_empty() {
        let heads = ["col.rule", "col.what", "col.citation", "col.n"].map(|k| t(lang, k));
        open_table(&mut o, "<table aria-labelledby=\"rules\">", &heads);
        for (rule, r) in rules {
            let cites: Vec<String> = r.citations.iter().map(|c| esc(c)).collect();
            let _ = write!(
                o,
                "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td><td>{}</td><td data-m>{}</td></tr>",
                esc(rule),
                r.kind.map_or("", |k| kind_words(k, lang)),
                if cites.is_empty() { t(lang, "practice").to_owned() } else { cites.join("<br>") },
                r.n
            );
        }
        o.push_str("</tbody></table>");
    }
    if !s.unresolved.is_empty() {
        let _ = write!(
            o,
            "<h2 id=\"unresolved\">{}</h2><p>{}</p><ul>",
            t(lang, "h.unresolved"),
            t(lang, "unresolved.lead")
        );
        for u in &s.unresolved {
            let _ = write!(o, "<li>{}</li>", esc(u));
        }
        o.push_str("</ul>");
    }
    let _ = write!(o, "<h2 id=\"method\">{}</h2><p>{}</p>", t(lang, "h.method"), t(lang, "method.common"));
    let specific = format!("method.{}", s.command);
    if MESSAGES.iter().any(|(k, _, _)| *k == specific) {
        let _ = write!(o, "<p>{}</p>", t(lang, &specific));
    }
    o
}

/// A table of findings: severity, detector, record, file and line, evidence, rule and citation.
pub fn findings_table(findings: &[Finding], lang: Lang) -> String {
    let mut o = String::with_capacity(256 * findings.len() + 512);
    let heads =
        ["col.severity", "col.detector", "col.record", "col.where", "col.evidence", "col.rule"].map(|k| t(lang, k));
    open_table(&mut o, "<div class=\"table-wrap\"><table class=\"findings\">", &heads);
    for fd in findings {
        let _ = write!(
            o,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code><br>{}</td></tr>",
            severity_word(fd.severity, lang),
            fd.kind.as_str(),
            esc(&fd.subject.label()),
            place(fd, lang),
            esc(&fd.evidence),
            esc(fd.rule),
            if fd.citation.is_empty() { t(lang, "practice").to_owned() } else { esc(fd.citation) }
        );
    }
    o.push_str("</tbody></table></div>");
    o
}

/// The whole evidence report as one self-contained HTML page (no external assets): the
/// [`html_sections`], then the findings most severe first, at most `limit` of them (the page
/// says how many more the machine formats hold). `findings` must already be sorted; they may be
/// only the first of all the findings the summary counts (the caller need not keep the rest).
pub fn html_page(s: &Summary, findings: &[Finding], limit: usize, lang: Lang) -> String {
    let title = f(lang, "title", &[&s.command]);
    let mut o = String::with_capacity(64 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}{EXTRA}</style></head><body><main>\
         <h1>{title}</h1><p>{lead}</p>",
        code = lang.code(),
        title = esc(&title),
        lead = t(lang, "lead"),
    );
    o.push_str(&html_sections(s, lang));
    let _ = write!(o, "<h2 id=\"list\">{}</h2>", t(lang, "h.list"));
    let shown = findings.len().min(limit);
    let total = s.findings.max(findings.len() as u64);
    if (shown as u64) < total {
        let _ = write!(o, "<p>{}</p>", f(lang, "shown", &[&thousands(shown as u64), &thousands(total)]));
    }
    if total == 0 {
        let _ = write!(o, "<p>{}</p>", t(lang, "none"));
    } else {
        o.push_str(&findings_table(&findings[..shown], lang));
    }
    let _ = write!(
        o,
        "<footer><p>{}</p></footer></main></body></html>",
        f(lang, "generated", &[&format!("FusionGuard {}", env!("CARGO_PKG_VERSION"))])
    );
    o
}

/// Styles the evidence report adds to the transparency report's.
const EXTRA: &str =
    "body{max-width:80rem}.table-wrap{overflow-x:auto}table.findings td{vertical-align:top;font-size:.9rem}\
table.findings td:nth-child(5){max-width:32rem;overflow-wrap:anywhere}a{color:#0645ad}";

/// Sorts findings most severe first; within a severity by file, line and detector.
pub fn sort_most_severe_first(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.file.cmp(&b.file))
            .then_with(|| a.line.cmp(&b.line))
            .then_with(|| a.kind.cmp(&b.kind))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Findings counted in runs (the chunks of a file, on several threads) and merged in order
    /// give the summary that counting them one by one gives: counts, rules in the order first
    /// met, and the same examples in the same order, wherever the runs are cut.
    #[test]
    fn summaries_counted_in_runs_and_merged_are_one_summary() {
        let citations = ["", "Cal. Civ. Code § 1798.90.55(b)", "Fla. Stat. § 316.0777"];
        let findings: Vec<Finding> = (0..300u64)
            .map(|i| Finding {
                kind: [Kind::VagueReason, Kind::WideSearch, Kind::ImmigrationPurpose, Kind::OffHours][(i % 4) as usize],
                severity: [Severity::Low, Severity::Medium, Severity::High][(i * 7 % 3) as usize],
                subject: Subject::Search { record: format!("s{i}") },
                line: i + 2,
                evidence: format!("e{i}"),
                rule: ["search.vague_reason", "search.wide", "search.immigration_purpose", "officer.off_hours"]
                    [((i / 3) % 4) as usize],
                citation: citations[(i % 3) as usize],
                agency: (i % 5 != 0).then(|| ["Okaloosa County FL SO", "Chino PD"][(i / 40 % 2) as usize].to_string()),
                user: (i % 2 == 0).then(|| format!("u{}", i / 25)),
                time: Some(crate::time::Timestamp {
                    millis: 1_700_000_000_000 + i as i64 * 86_400_000,
                    zone_known: true,
                }),
                file: None,
                also_in: Vec::new(),
            })
            .collect();
        let mut whole = Summary::new("searches");
        findings.iter().for_each(|f| whole.push(f));
        let seen = |s: &Summary| {
            let examples: Vec<(Kind, Vec<String>)> =
                s.examples.iter().map(|(k, v)| (*k, v.iter().map(|f| f.evidence.clone()).collect())).collect();
            let rules: Vec<_> =
                s.by_rule.iter().map(|(r, c)| (*r, c.kind, c.severity, c.citations.clone(), c.n)).collect();
            let tallies = (s.by_agency.counts(), s.by_user.counts(), s.by_month.rows());
            (s.findings, s.by_kind.clone(), rules, tallies, examples)
        };
        for cuts in [vec![1], vec![7, 8, 150], vec![64, 128, 192, 256], (1..300).step_by(13).collect()] {
            let mut merged = Summary::new("searches");
            let mut from = 0;
            for to in cuts.into_iter().chain([findings.len()]) {
                let mut run = Summary::default();
                findings[from..to].iter().for_each(|f| run.push_ref(&f.view()));
                merged.merge_findings(run);
                from = to;
            }
            assert_eq!(seen(&merged), seen(&whole));
        }
    }

    /// Months counted out of order, across years and merged, come out in calendar order with the
    /// counts a plain tally gives.
    #[test]
    fn months_are_counted_in_calendar_order() {
        let day = |y: i64, m: u32, d: u32| crate::time::Timestamp {
            millis: crate::time::days_from_civil(y, m, d) * 86_400_000 + 3_600_000,
            zone_known: true,
        };
        let dates =
            [(2025, 3, 1), (2025, 3, 1), (2024, 12, 31), (2025, 1, 5), (2025, 3, 9), (2024, 12, 1), (2025, 1, 5)];
        let (mut a, mut b) = (Months::default(), Months::default());
        for (i, &(y, m, d)) in dates.iter().enumerate() {
            if i < 4 {
                a.add(day(y, m, d))
            } else {
                b.add(day(y, m, d))
            }
        }
        b.add(day(2023, 7, 4));
        a.merge(b);
        let rows: Vec<(String, u64)> = a.rows();
        let expected = [("2023-07", 1), ("2024-12", 2), ("2025-01", 2), ("2025-03", 3)];
        assert_eq!(rows, expected.map(|(m, n)| (m.to_owned(), n)).to_vec());
        assert_eq!(a.total(), 8);
        assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"2023-07":1,"2024-12":2,"2025-01":2,"2025-03":3}"#);
    }

    #[test]
    fn every_message_is_translated() {
        for (key, en, es) in MESSAGES {
            assert!(!en.is_empty() && !es.is_empty(), "{key}");
            // Words spelt alike in both languages.
            if !["col.detector", "col.total"].contains(key) {
                assert_ne!(en, es, "{key} is not translated");
            }
        }
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(7273), "7,273");
        assert_eq!(thousands(1_540_878), "1,540,878");
    }
}
