//! HTML and CSV renderings of a [`Report`]. The CSV is a walk over the JSON form, so the two
//! cannot disagree; the HTML shows the same lists, each as a chart and the table of its numbers.

use std::fmt::Write as _;

use serde_json::Value;

use super::{CountRow, Report, ReportLang, Row, Violations};

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Opens a table: `open` is its start tag (with its accessible name), then the header row of
/// `heads` (already HTML), and the body.
pub(crate) fn open_table(out: &mut String, open: &str, heads: &[&str]) {
    out.push_str(open);
    out.push_str("<thead><tr>");
    for h in heads {
        let _ = write!(out, "<th scope=\"col\">{h}</th>");
    }
    out.push_str("</tr></thead><tbody>");
}

/// CSV: `section,key,label,measure,value`, one row per number (and per string of the metadata).
pub(super) fn csv(report: &Report) -> String {
    let value = serde_json::to_value(report).unwrap_or(Value::Null);
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["section", "key", "label", "measure", "value"]);
    let Value::Object(top) = value else { return String::new() };
    for (name, v) in &top {
        walk(&mut w, name, v);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

fn walk(w: &mut csv::Writer<Vec<u8>>, section: &str, v: &Value) {
    match v {
        Value::Object(fields) => {
            for (k, x) in fields {
                match x {
                    Value::Object(_) => walk(w, &format!("{section}.{k}"), x),
                    Value::Array(items) => {
                        for item in items {
                            let key = item["key"].as_str().unwrap_or("");
                            let label = item["label"].as_str().unwrap_or("");
                            for (m, n) in item.as_object().into_iter().flatten() {
                                if m != "key" && m != "label" {
                                    let value = scalar(n).unwrap_or_default();
                                    let _ = w.write_record([&format!("{section}.{k}"), key, label, m, &value]);
                                }
                            }
                        }
                    }
                    _ => {
                        let value = scalar(x).unwrap_or_default();
                        let _ = w.write_record([section, "", "", k, &value]);
                    }
                }
            }
        }
        _ => {
            let value = scalar(v).unwrap_or_default();
            let _ = w.write_record(["report", "", "", section, &value]);
        }
    }
}

/// Every message of the HTML page: key, English, Spanish, side by side, so that no message exists
/// in one language only. `{0}`, `{1}`, ... are filled in (already escaped where they are HTML);
/// the text itself is HTML as written (a test checks that every message is translated).
pub(super) const MESSAGES: &[(&str, &str, &str)] = &[
    // The page.
    (
        "page.title",
        "Surveillance use transparency report {0}",
        "Informe de transparencia sobre el uso de la vigilancia {0}",
    ),
    (
        "page.h1",
        "Surveillance use transparency report, {0}",
        "Informe de transparencia sobre el uso de la vigilancia, {0}",
    ),
    (
        "page.intro",
        "Annual report on the use of the data-sharing hub {0}, in the form local surveillance ordinances require: \
         how it was used, what was shared with whom and under what authority, what was denied and why, supervisors' \
         reviews, safeguards carried out, findings, complaints and violations. Every number is counted from the \
         hub's public, verifiable ledger; this report holds aggregates only and no personal data.",
        "Informe anual sobre el uso del hub de intercambio de datos {0}, en la forma que exigen las ordenanzas \
         locales de vigilancia: cómo se usó, qué se compartió, con quién y con qué autoridad, qué se denegó y por \
         qué, las revisiones de los supervisores, las salvaguardas aplicadas, los hallazgos, las quejas y las \
         infracciones. Cada cifra se cuenta a partir del registro público y verificable del hub; este informe \
         contiene solo datos agregados y ningún dato personal.",
    ),
    // Charts and tables.
    ("none", "None recorded in {0}: {1}.", "Nada registrado en {0}: {1}."),
    (
        "chart.decisions",
        "Bar chart of {0} rows: decisions per {1}, split into permitted, held for review and denied; the table \
         below gives every number.",
        "Gráfico de barras de {0} filas ({1}): decisiones divididas en permitidas, retenidas para revisión y \
         denegadas; la tabla siguiente da cada número.",
    ),
    (
        "chart.counts",
        "Bar chart of {0} rows; the table below gives every number.",
        "Gráfico de barras de {0} filas; la tabla siguiente da cada número.",
    ),
    ("outcome.permit", "permit", "permitidas"),
    ("outcome.review", "review", "en revisión"),
    ("outcome.deny", "deny", "denegadas"),
    ("csv", "CSV: {0}", "Datos en CSV: {0}"),
    ("col.key", "Key", "Clave"),
    ("col.name", "Name", "Nombre"),
    ("col.requests", "Requests", "Solicitudes"),
    ("col.permit", "Permitted", "Permitidas"),
    ("col.deny", "Denied", "Denegadas"),
    ("col.review", "Held for review", "Retenidas para revisión"),
    ("col.approved_on_review", "Approved on review", "Aprobadas en revisión"),
    ("col.denied_on_review", "Denied on review", "Denegadas en revisión"),
    ("col.count", "Count", "Cantidad"),
    ("col.citation", "Citation", "Norma citada"),
    ("col.meaning", "Meaning", "Significado"),
    ("col.agency", "Agency", "Agencia"),
    // Summary.
    ("h2.summary", "Summary", "Resumen"),
    ("totals", "Totals for the year", "Totales del año"),
    ("totals.requests", "Requests decided", "Solicitudes resueltas"),
    ("totals.permit", "Permitted", "Permitidas"),
    ("totals.deny", "Denied", "Denegadas"),
    ("totals.review", "Held for a supervisor's review", "Retenidas para la revisión de un supervisor"),
    ("totals.approved_on_review", "Approved on review", "Aprobadas en revisión"),
    ("totals.denied_on_review", "Denied on review", "Denegadas en revisión"),
    ("totals.pending_review", "Review pending", "Revisión pendiente"),
    (
        "totals.outside_requests",
        "Requests from agencies other than the data's owner",
        "Solicitudes de agencias distintas de la propietaria de los datos",
    ),
    ("totals.outside_released", "Of which data was released", "De ellas, con entrega de datos"),
    ("totals.refused", "Refused attempts (impersonation)", "Intentos rechazados (suplantación de identidad)"),
    ("totals.entries", "Ledger entries dated in the year", "Entradas del registro fechadas en el año"),
    // Uses.
    ("h2.uses", "Uses", "Usos"),
    ("uses.by_data_type", "Requests by data type", "Solicitudes por tipo de dato"),
    ("uses.by_source", "Requests by source", "Solicitudes por fuente"),
    ("uses.by_action", "Requests by action", "Solicitudes por acción"),
    ("uses.by_purpose", "Requests by purpose", "Solicitudes por finalidad"),
    ("uses.by_legal_basis", "Requests by legal basis", "Solicitudes por base jurídica"),
    ("uses.by_month", "Requests by month (UTC)", "Solicitudes por mes (UTC)"),
    ("uses.by_requester", "Requests by requesting agency", "Solicitudes por agencia solicitante"),
    // Sharing.
    ("h2.sharing", "Sharing outside the owning agency", "Datos compartidos fuera de la agencia propietaria"),
    (
        "sharing.intro",
        "Requests from an agency other than the one that owns the data, by requesting (receiving) agency, by kind \
         of agency, and, for forwarded requests, by the agency that originated them.",
        "Solicitudes de una agencia distinta de la propietaria de los datos, por agencia solicitante (receptora), \
         por tipo de agencia y, en las solicitudes reenviadas, por la agencia que las originó.",
    ),
    ("sharing.by_recipient", "Outside requests by recipient agency", "Solicitudes externas por agencia receptora"),
    (
        "sharing.by_recipient_kind",
        "Outside requests by kind of recipient agency",
        "Solicitudes externas por tipo de agencia receptora",
    ),
    (
        "sharing.by_originator",
        "Forwarded requests by originating agency",
        "Solicitudes reenviadas por agencia de origen",
    ),
    (
        "sharing.by_owner_and_recipient_kind",
        "Outside requests by owning agency and kind of recipient",
        "Solicitudes externas por agencia propietaria y tipo de receptora",
    ),
    // Citations.
    ("h2.citations", "Decisions by citation", "Decisiones por norma citada"),
    (
        "citations.intro",
        "Each decision cites the policies of the law library that decided it; a decision citing several is counted \
         under each.",
        "Cada decisión cita las políticas de la biblioteca de leyes que la resolvieron; una decisión que cita \
         varias se cuenta en cada una.",
    ),
    ("citations.denials", "Denials by citation", "Denegaciones por norma citada"),
    (
        "citations.reviews",
        "Requests held for review, by citation",
        "Solicitudes retenidas para revisión, por norma citada",
    ),
    ("citations.permits", "Permits by citation", "Permisos por norma citada"),
    // Reviews.
    ("h2.reviews", "Reviews and their outcomes", "Revisiones y sus resultados"),
    ("reviews", "Requests held for review in the year", "Solicitudes retenidas para revisión en el año"),
    ("reviews.held", "Held", "Retenidas"),
    ("reviews.approved", "Approved", "Aprobadas"),
    ("reviews.denied", "Denied", "Denegadas"),
    ("reviews.pending", "Pending at the checkpoint", "Pendientes en el punto de control"),
    (
        "reviews.median_hours_to_verdict",
        "Median hours from hold to verdict",
        "Mediana de horas entre la retención y el veredicto",
    ),
    ("reviews.median.none", "none", "ninguna"),
    ("reviews.verdicts_in_year", "Verdicts given in the year", "Veredictos dictados en el año"),
    // Safeguards.
    ("h2.obligations", "Safeguards carried out", "Salvaguardas aplicadas"),
    ("h2.funding", "Costs and funding", "Costos y financiamiento"),
    ("funding", "Total cost of the year", "Costo total del año"),
    ("funding.total_usd", "US dollars", "Dólares estadounidenses"),
    ("funding.entries", "Costs of the year", "Costos del año"),
    ("funding.by_grantor", "Costs by funding source", "Costos por fuente de financiamiento"),
    (
        "funding.not_provided",
        "Not provided: the deployment states no costs or funding sources ([[funding]] in its deployment.toml).",
        "No proporcionado: el despliegue no declara costos ni fuentes de financiamiento ([[funding]] en su deployment.toml).",
    ),
    ("col.program", "Program", "Programa"),
    ("col.grantor", "Funding source", "Fuente de financiamiento"),
    ("col.purpose", "Purpose", "Propósito"),
    ("col.amount_usd", "US dollars", "Dólares"),
    ("col.entries", "Entries", "Entradas"),
    ("obligations", "Releases and their obligations", "Entregas y sus obligaciones"),
    ("obligations.releases", "Releases (permits and approvals)", "Entregas (permisos y aprobaciones)"),
    ("obligations.releases_with_obligations", "Releases carrying obligations", "Entregas con obligaciones"),
    ("obligations.by_kind", "Obligations by kind", "Obligaciones por tipo"),
    ("obligations.by_obligation", "Obligations as written", "Obligaciones tal como están escritas"),
    (
        "obligations.notices_by_agency",
        "Notices to the people requests were about, by agency",
        "Avisos a las personas objeto de las solicitudes, por agencia",
    ),
    // What each kind of obligation means (policy::obligation); also the JSON's labels, in English.
    ("obligation.redact", "fields removed from released records", "campos eliminados de los registros entregados"),
    ("obligation.release_only", "only the listed fields released", "solo se entregan los campos indicados"),
    ("obligation.notify_subject", "the person told of the request", "se informó a la persona de la solicitud"),
    ("obligation.certify", "recipient's written certification on file", "certificación escrita del receptor archivada"),
    ("obligation.record_dissemination", "dissemination recorded", "difusión registrada"),
    ("obligation.report", "request reported to an oversight body", "solicitud comunicada a un órgano de supervisión"),
    // Requests between hubs.
    ("h2.federation", "Requests between hubs", "Solicitudes entre centros"),
    (
        "federation.intro",
        "Requests this hub sent to the peer hubs of its federation, for the sources they serve (decided here by \
         the law that binds this hub, then again by the peer), and requests the peers sent here (decided here). \
         A request sent to a peer releases nothing from this hub: it counts among the year's requests, not among \
         its releases or its outside sharing.",
        "Solicitudes que este centro envió a los demás centros de su federación, sobre las fuentes que ellos \
         sirven (resueltas aquí según la ley que obliga a este centro y de nuevo por el otro centro), y \
         solicitudes que los demás centros enviaron aquí (resueltas aquí). Una solicitud enviada a otro centro no \
         entrega nada de este centro: cuenta entre las solicitudes del año, no entre sus entregas ni entre los \
         datos compartidos fuera de la agencia propietaria.",
    ),
    ("federation.by_peer", "Requests by peer hub", "Solicitudes por centro de la federación"),
    (
        "federation.chart",
        "Requests sent to and received from each peer hub",
        "Solicitudes enviadas a cada centro de la federación y recibidas de él",
    ),
    ("federation.unknown", "a sender not among the peers", "un remitente ajeno a la federación"),
    ("federation.forward_failures", "Failed forwards by reason", "Reenvíos fallidos por motivo"),
    ("federation.refusals", "Refused envelopes by reason", "Sobres rechazados por motivo"),
    ("col.peer", "Peer hub", "Centro de la federación"),
    ("col.sent", "Sent to it", "Enviadas a él"),
    ("col.sent_permit", "Permitted here", "Permitidas aquí"),
    ("col.sent_deny", "Denied here (not sent)", "Denegadas aquí (no enviadas)"),
    ("col.sent_review", "Held here", "Retenidas aquí"),
    ("col.answered_permit", "Permitted by the peer", "Permitidas por el otro centro"),
    ("col.answered_deny", "Denied by the peer", "Denegadas por el otro centro"),
    ("col.answered_review", "Held by the peer", "Retenidas por el otro centro"),
    ("col.received", "Received from it", "Recibidas de él"),
    ("col.forward_failed", "Failed forwards", "Reenvíos fallidos"),
    ("col.refused", "Refused envelopes", "Sobres rechazados"),
    // Findings.
    ("h2.findings", "Findings", "Hallazgos"),
    (
        "findings.justification_signals",
        "Immigration-enforcement signals in justifications (checkpoint classifier), by strength and decision",
        "Indicios de control migratorio en las justificaciones (clasificador del hub), por intensidad y decisión",
    ),
    (
        "findings.by_kind",
        "Oversight detector findings by kind and severity",
        "Hallazgos de los detectores de supervisión por tipo y gravedad",
    ),
    ("findings.detectors", "Oversight detector findings", "Hallazgos de los detectores de supervisión"),
    (
        "findings.not_ran",
        "The oversight detectors did not run on the ledger for this report.",
        "Los detectores de supervisión no se ejecutaron sobre el registro para este informe.",
    ),
    // Complaints and violations.
    ("h2.violations", "Complaints and violations", "Quejas e infracciones"),
    ("violations", "Complaints and violations recorded", "Quejas e infracciones registradas"),
    ("violations.complaints_recorded", "Complaints recorded", "Quejas registradas"),
    (
        "violations.high_severity_findings",
        "High-severity detector findings",
        "Hallazgos de gravedad alta de los detectores",
    ),
    (
        "violations.refused_by_agency",
        "Refused attempts by the agency holding the token",
        "Intentos rechazados, por la agencia titular del token",
    ),
    // The statement on complaints and violations (also the JSON's `violations.statement`, in English).
    (
        "statement.complaints",
        "No complaints are recorded: the ledger records decisions, refused attempts and reviews, not complaints \
         received by the agency, which it must report alongside this report.",
        "No se registran quejas: el registro anota decisiones, intentos rechazados y revisiones, no las quejas que \
         recibe la agencia, que esta debe comunicar junto con este informe.",
    ),
    (
        "statement.refused.none",
        "No attempt to request data under another user's or agency's identity was recorded.",
        "No se registró ningún intento de solicitar datos con la identidad de otro usuario o de otra agencia.",
    ),
    (
        "statement.refused",
        "{0} attempt(s) to request data under another user's or agency's identity were refused and recorded; no \
         data was released for them.",
        "Se rechazaron y registraron {0} intento(s) de solicitar datos con la identidad de otro usuario o de otra \
         agencia; no se entregó ningún dato por ellos.",
    ),
    (
        "statement.not_ran",
        "The oversight detectors did not run for this report: no detector violations are counted.",
        "Los detectores de supervisión no se ejecutaron para este informe: no se cuenta ninguna infracción detectada.",
    ),
    (
        "statement.high.none",
        "The oversight detectors found no high-severity finding.",
        "Los detectores de supervisión no encontraron ningún hallazgo de gravedad alta.",
    ),
    (
        "statement.high",
        "The oversight detectors found {0} high-severity finding(s).",
        "Los detectores de supervisión encontraron {0} hallazgo(s) de gravedad alta.",
    ),
    // How the report was made.
    ("h2.method", "How this report was made", "Cómo se elaboró este informe"),
    (
        "method",
        "Period: {0} to {1} (exclusive), {2}: an entry counts in the year its ledger time falls in, in UTC. \
         Computed from the verified ledger <code>{3}</code>, checkpoint of {4} entries, root hash <code>{5}</code>: \
         every entry bundle and hash tile was checked against the signed checkpoint before any entry was counted. \
         Anyone can check the ledger with <code>fusionguard ledger verify</code> and recount with \
         <code>fusionguard report transparency</code>. Format: <code>{6}</code>.",
        "Periodo: de {0} a {1} (sin incluir este último), {2}: una entrada cuenta en el año en que cae su hora en el \
         registro, en UTC. Calculado a partir del registro verificado <code>{3}</code>, punto de control de {4} \
         entradas, hash raíz <code>{5}</code>: cada paquete de entradas y cada tesela de hashes se comprobó con el \
         punto de control firmado antes de contar ninguna entrada. Cualquiera puede comprobar el registro con \
         <code>fusionguard ledger verify</code> y volver a contar con <code>fusionguard report transparency</code>. \
         Formato: <code>{6}</code>.",
    ),
];

/// The message `key` in `lang` (the key itself if there is none: a test renders every message).
pub(super) fn t(lang: ReportLang, key: &str) -> &'static str {
    match MESSAGES.iter().find(|(k, _, _)| *k == key) {
        Some((_, en, es)) => lang.pick(en, es),
        None => {
            debug_assert!(false, "no message {key:?}");
            ""
        }
    }
}

/// The message `key` in `lang` with `{0}`, `{1}`, ... replaced by `args` ([`model::lang::fill`]).
pub(super) fn f(lang: ReportLang, key: &str, args: &[&str]) -> String {
    model::lang::fill(t(lang, key), args)
}

/// What a kind of obligation means, in `lang`.
pub(super) fn obligation_label(kind: &str, lang: ReportLang) -> Option<&'static str> {
    let key = match kind {
        "redact" => "obligation.redact",
        "release_only" => "obligation.release_only",
        "notify_subject" => "obligation.notify_subject",
        "certify" => "obligation.certify",
        "record_dissemination" => "obligation.record_dissemination",
        "report" => "obligation.report",
        _ => return None,
    };
    Some(t(lang, key))
}

/// The statement on complaints and violations, in `lang`.
pub(super) fn statement(v: &Violations, detectors_ran: bool, lang: ReportLang) -> String {
    let mut parts = vec![t(lang, "statement.complaints").to_string()];
    let refused: u64 = v.refused_by_agency.iter().map(|r| r.count).sum();
    parts.push(if refused == 0 {
        t(lang, "statement.refused.none").to_string()
    } else {
        f(lang, "statement.refused", &[&refused.to_string()])
    });
    parts.push(if !detectors_ran {
        t(lang, "statement.not_ran").to_string()
    } else if v.high_severity_findings == 0 {
        t(lang, "statement.high.none").to_string()
    } else {
        f(lang, "statement.high", &[&v.high_severity_findings.to_string()])
    });
    parts.join(" ")
}

/// Colour-blind-safe (Okabe-Ito) colours of permit, review, deny, and the messages naming them.
const OUTCOMES: [(&str, &str, &str); 3] = [
    ("permit", "#009E73", "outcome.permit"),
    ("review", "#E69F00", "outcome.review"),
    ("deny", "#D55E00", "outcome.deny"),
];
const BAR: &str = "#0072B2";
const CHART_W: u32 = 720;
const LABEL_W: u32 = 240;
const ROW_H: u32 = 22;

struct Page<'a> {
    out: String,
    charts: u32,
    /// Where the report's CSV is served (`/transparency.csv?year=2026`): each chart then links to
    /// its own rows, `&table=SECTION`.
    csv: Option<&'a str>,
    /// The language of the page.
    lang: ReportLang,
}

impl Page<'_> {
    fn id(&mut self) -> String {
        self.charts += 1;
        format!("c{}", self.charts)
    }

    fn t(&self, key: &str) -> &'static str {
        t(self.lang, key)
    }

    /// A link to the CSV of one table, when the report is served with its CSV.
    fn csv_link(&mut self, section: &str, title: &str) {
        if let Some(csv) = self.csv {
            let text = f(self.lang, "csv", &[&esc(title)]);
            let _ = write!(
                self.out,
                "<p class=\"csv\"><a href=\"{}&amp;table={}\">{text}</a></p>",
                esc(csv),
                esc(section),
            );
        }
    }

    fn none(&mut self, what: &str, year: i64) {
        let text = f(self.lang, "none", &[&year.to_string(), &esc(what)]);
        let _ = write!(self.out, "<p class=\"none\">{text}</p>");
    }

    /// A stacked bar chart of permit/review/deny per row, and its table; `section` is also the
    /// key of its title.
    fn decisions(&mut self, section: &str, rows: &[Row], year: i64) {
        let title = self.t(section);
        let _ = write!(self.out, "<h3>{}</h3>", esc(title));
        if rows.iter().all(|r| r.requests == 0) {
            self.none(&title.to_lowercase(), year);
            if rows.is_empty() {
                return;
            }
        }
        let id = self.id();
        let max = rows.iter().map(|r| r.requests).max().unwrap_or(0).max(1);
        let height = ROW_H * rows.len() as u32 + 30;
        let desc = f(self.lang, "chart.decisions", &[&rows.len().to_string(), &esc(&title.to_lowercase())]);
        let _ = write!(
            self.out,
            "<figure><svg role=\"img\" aria-labelledby=\"{id}t {id}d\" width=\"{CHART_W}\" height=\"{height}\" \
             viewBox=\"0 0 {CHART_W} {height}\" xmlns=\"http://www.w3.org/2000/svg\">\
             <title id=\"{id}t\">{t}</title><desc id=\"{id}d\">{desc}</desc>",
            t = esc(title),
        );
        let scale = f64::from(CHART_W - LABEL_W - 60) / max as f64;
        for (i, r) in rows.iter().enumerate() {
            let y = i as u32 * ROW_H;
            let _ = write!(
                self.out,
                "<text x=\"{x}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"12\">{label}</text>",
                x = LABEL_W - 6,
                ty = y + 15,
                label = esc(&short(&r.key, 34))
            );
            let mut x = f64::from(LABEL_W);
            for (outcome, colour, name) in OUTCOMES {
                let n = match outcome {
                    "permit" => r.permit,
                    "review" => r.review,
                    _ => r.deny,
                };
                if n == 0 {
                    continue;
                }
                let w = n as f64 * scale;
                let _ = write!(
                    self.out,
                    "<rect x=\"{x:.1}\" y=\"{ry}\" width=\"{w:.1}\" height=\"{h}\" fill=\"{colour}\">\
                     <title>{k}: {n} {name}</title></rect>",
                    ry = y + 3,
                    h = ROW_H - 6,
                    k = esc(&r.key),
                    name = esc(self.t(name))
                );
                x += w;
            }
            let _ = write!(
                self.out,
                "<text x=\"{tx:.1}\" y=\"{ty}\" font-size=\"12\">{n}</text>",
                tx = x + 4.0,
                ty = y + 15,
                n = r.requests
            );
        }
        let ly = ROW_H * rows.len() as u32 + 18;
        let mut lx = LABEL_W;
        for (_, colour, name) in OUTCOMES {
            let _ = write!(
                self.out,
                "<rect x=\"{lx}\" y=\"{ry}\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\
                 <text x=\"{tx}\" y=\"{ly}\" font-size=\"12\">{name}</text>",
                ry = ly - 10,
                tx = lx + 16,
                name = esc(self.t(name))
            );
            lx += 90;
        }
        let _ = write!(self.out, "</svg><figcaption>{}</figcaption></figure>", esc(title));
        let _ = write!(self.out, "<table data-section=\"{section}\"><caption>{t}</caption><thead><tr>", t = esc(title));
        for col in [
            "col.key",
            "col.name",
            "col.requests",
            "col.permit",
            "col.deny",
            "col.review",
            "col.approved_on_review",
            "col.denied_on_review",
        ] {
            let _ = write!(self.out, "<th scope=\"col\">{}</th>", esc(self.t(col)));
        }
        self.out.push_str("</tr></thead><tbody>");
        for r in rows {
            let _ = write!(
                self.out,
                "<tr data-key=\"{k}\"><th scope=\"row\">{k}</th><td>{label}</td><td data-m=\"requests\">{}</td>\
                 <td data-m=\"permit\">{}</td><td data-m=\"deny\">{}</td><td data-m=\"review\">{}</td>\
                 <td data-m=\"approved_on_review\">{}</td><td data-m=\"denied_on_review\">{}</td></tr>",
                r.requests,
                r.permit,
                r.deny,
                r.review,
                r.approved_on_review,
                r.denied_on_review,
                k = esc(&r.key),
                label = esc(r.label.as_deref().unwrap_or(""))
            );
        }
        self.out.push_str("</tbody></table>");
        self.csv_link(section, title);
    }

    /// A bar chart of counts, and its table; `section` is also the key of its title, and
    /// `label_head` the key of the label column's heading (none: an empty heading).
    fn counts(&mut self, section: &str, label_head: Option<&str>, rows: &[CountRow], year: i64) {
        let title = self.t(section);
        let _ = write!(self.out, "<h3>{}</h3>", esc(title));
        if rows.is_empty() {
            self.none(&title.to_lowercase(), year);
            return;
        }
        let id = self.id();
        let bars: Vec<(&str, u64)> = rows.iter().map(|r| (r.key.as_str(), r.count)).collect();
        self.out.push_str(&bar_chart(&id, title, &bars, self.lang));
        let _ = write!(
            self.out,
            "<table data-section=\"{section}\"><caption>{t}</caption><thead><tr><th scope=\"col\">{key}</th>\
             <th scope=\"col\">{lh}</th><th scope=\"col\">{count}</th></tr></thead><tbody>",
            t = esc(title),
            key = esc(self.t("col.key")),
            lh = esc(label_head.map_or("", |k| self.t(k))),
            count = esc(self.t("col.count"))
        );
        for r in rows {
            // The meanings of obligation kinds are the report's own words: in the page's language.
            let own = match (section, self.lang) {
                ("obligations.by_kind", ReportLang::Es) => obligation_label(&r.key, self.lang),
                _ => None,
            };
            let _ = write!(
                self.out,
                "<tr data-key=\"{k}\"><th scope=\"row\">{k}</th><td>{label}</td><td data-m=\"count\">{n}</td></tr>",
                k = esc(&r.key),
                label = esc(own.or(r.label.as_deref()).unwrap_or("")),
                n = r.count
            );
        }
        self.out.push_str("</tbody></table>");
        self.csv_link(section, title);
    }

    /// A table of single numbers (no chart: each is one number); `section` is also the key of its
    /// caption, and `SECTION.MEASURE` that of each row's name.
    fn scalars(&mut self, section: &str, rows: &[(&str, String)]) {
        let _ = write!(
            self.out,
            "<table data-section=\"{section}\"><caption>{t}</caption><tbody>",
            t = esc(self.t(section))
        );
        for (measure, value) in rows {
            let name = self.t(&format!("{section}.{measure}"));
            let _ = write!(
                self.out,
                "<tr data-key=\"\"><th scope=\"row\">{}</th><td data-m=\"{measure}\">{}</td></tr>",
                esc(name),
                esc(value)
            );
        }
        self.out.push_str("</tbody></table>");
    }

    /// A section heading, `<h2 id="ID">`, its text the message `h2.ID`.
    /// Costs and funding: the year's entries and their total by grantor, or "not provided".
    fn funding(&mut self, fu: &super::FundingSection, year: i64) {
        self.h2("funding");
        if !fu.provided {
            let _ = write!(self.out, "<p class=\"none\">{}</p>", self.t("funding.not_provided"));
        } else if fu.entries.is_empty() {
            self.none(&self.t("funding.entries").to_lowercase(), year);
        } else {
            let heads = ["col.program", "col.grantor", "col.purpose", "col.amount_usd"].map(|k| esc(self.t(k)));
            let open = format!(
                "<table data-section=\"funding.entries\"><caption>{}</caption>",
                esc(self.t("funding.entries"))
            );
            open_table(&mut self.out, &open, &["#", &heads[0], &heads[1], &heads[2], &heads[3]]);
            for e in &fu.entries {
                let _ = write!(
                    self.out,
                    "<tr data-key=\"{k}\"><th scope=\"row\">{k}</th><td>{}</td><td>{}</td><td>{}</td>\
                     <td data-m=\"amount_usd\">{}</td></tr>",
                    esc(&e.program),
                    esc(&e.grantor),
                    esc(&e.purpose),
                    num(e.amount_usd),
                    k = esc(&e.key),
                );
            }
            self.out.push_str("</tbody></table>");
            let heads = ["col.grantor", "col.amount_usd", "col.entries"].map(|k| esc(self.t(k)));
            let open = format!(
                "<table data-section=\"funding.by_grantor\"><caption>{}</caption>",
                esc(self.t("funding.by_grantor"))
            );
            open_table(&mut self.out, &open, &heads.each_ref().map(String::as_str));
            for g in &fu.by_grantor {
                let _ = write!(
                    self.out,
                    "<tr data-key=\"{k}\"><th scope=\"row\">{k}</th><td data-m=\"amount_usd\">{}</td>\
                     <td data-m=\"entries\">{}</td></tr>",
                    num(g.amount_usd),
                    g.entries,
                    k = esc(&g.key),
                );
            }
            self.out.push_str("</tbody></table>");
            self.csv_link("funding.by_grantor", self.t("funding.by_grantor"));
        }
        self.scalars("funding", &[("total_usd", num(fu.total_usd))]);
    }

    /// Requests between hubs: a chart of the requests exchanged with each peer, the table of every
    /// number per peer, and the failed forwards and refused envelopes by reason. Nothing when the
    /// year holds no federation entry.
    fn federation(&mut self, fe: &super::FederationSection, year: i64) {
        if fe.is_empty() {
            return;
        }
        self.h2("federation");
        let _ = write!(self.out, "<p>{}</p>", self.t("federation.intro"));
        let _ = write!(self.out, "<h3>{}</h3>", esc(self.t("federation.by_peer")));
        let id = self.id();
        let bars: Vec<(&str, u64)> = fe.by_peer.iter().map(|r| (r.key.as_str(), r.sent + r.received)).collect();
        self.out.push_str(&bar_chart(&id, self.t("federation.chart"), &bars, self.lang));
        const COLUMNS: [(&str, &str); 13] = [
            ("sent", "col.sent"),
            ("sent_permit", "col.sent_permit"),
            ("sent_deny", "col.sent_deny"),
            ("sent_review", "col.sent_review"),
            ("answered_permit", "col.answered_permit"),
            ("answered_deny", "col.answered_deny"),
            ("answered_review", "col.answered_review"),
            ("received", "col.received"),
            ("received_permit", "col.permit"),
            ("received_deny", "col.deny"),
            ("received_review", "col.review"),
            ("forward_failed", "col.forward_failed"),
            ("refused", "col.refused"),
        ];
        let mut heads = vec![esc(self.t("col.peer")), esc(self.t("col.name"))];
        heads.extend(COLUMNS.iter().map(|(_, k)| esc(self.t(k))));
        let open = format!(
            "<table data-section=\"federation.by_peer\"><caption>{}</caption>",
            esc(self.t("federation.by_peer"))
        );
        open_table(&mut self.out, &open, &heads.iter().map(String::as_str).collect::<Vec<_>>());
        for r in &fe.by_peer {
            let label = match r.key.as_str() {
                super::UNKNOWN_PEER => self.t("federation.unknown"),
                _ => r.label.as_deref().unwrap_or(""),
            };
            let _ = write!(
                self.out,
                "<tr data-key=\"{k}\"><th scope=\"row\">{k}</th><td>{}</td>",
                esc(label),
                k = esc(&r.key)
            );
            let values = [
                r.sent,
                r.sent_permit,
                r.sent_deny,
                r.sent_review,
                r.answered_permit,
                r.answered_deny,
                r.answered_review,
                r.received,
                r.received_permit,
                r.received_deny,
                r.received_review,
                r.forward_failed,
                r.refused,
            ];
            for ((m, _), n) in COLUMNS.iter().zip(values) {
                let _ = write!(self.out, "<td data-m=\"{m}\">{n}</td>");
            }
            self.out.push_str("</tr>");
        }
        self.out.push_str("</tbody></table>");
        self.csv_link("federation.by_peer", self.t("federation.by_peer"));
        self.counts("federation.forward_failures", None, &fe.forward_failures, year);
        self.counts("federation.refusals", None, &fe.refusals, year);
    }

    fn h2(&mut self, id: &str) {
        let _ = write!(self.out, "<h2 id=\"{id}\">{}</h2>", self.t(&format!("h2.{id}")));
    }
}

/// A horizontal bar chart, inline SVG in a `<figure>`: `title` is the SVG's title and the caption,
/// its description (in `lang`) points to the table beside it, and each row a bar with its label (cut to 30 characters; the whole label
/// and the number are in the bar's tooltip) and its number written beside it, so that nothing is
/// carried by colour alone. `id` must be unique in the page. Pair it with a table of the same rows.
pub fn bar_chart(id: &str, title: &str, rows: &[(&str, u64)], lang: ReportLang) -> String {
    let desc = f(lang, "chart.counts", &[&rows.len().to_string()]);
    let mut out = String::new();
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let height = ROW_H * rows.len() as u32 + 8;
    let _ = write!(
        out,
        "<figure><svg role=\"img\" aria-labelledby=\"{id}t {id}d\" width=\"{CHART_W}\" height=\"{height}\" \
         viewBox=\"0 0 {CHART_W} {height}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"{id}t\">{t}</title><desc id=\"{id}d\">{d}</desc>",
        t = esc(title),
        d = esc(&desc),
    );
    let scale = f64::from(CHART_W - LABEL_W - 60) / max as f64;
    for (i, (key, n)) in rows.iter().enumerate() {
        let y = i as u32 * ROW_H;
        let w = *n as f64 * scale;
        let _ = write!(
            out,
            "<text x=\"{x}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"12\">{label}</text>\
             <rect x=\"{LABEL_W}\" y=\"{ry}\" width=\"{w:.1}\" height=\"{h}\" fill=\"{BAR}\"><title>{k}: {n}</title></rect>\
             <text x=\"{tx:.1}\" y=\"{ty}\" font-size=\"12\">{n}</text>",
            x = LABEL_W - 6,
            ty = y + 15,
            label = esc(&short(key, 30)),
            ry = y + 3,
            h = ROW_H - 6,
            k = esc(key),
            tx = f64::from(LABEL_W) + w + 4.0
        );
    }
    let _ = write!(out, "</svg><figcaption>{}</figcaption></figure>", esc(title));
    out
}

/// A number as the JSON form writes it (so the page and the JSON agree to the digit).
fn num(x: f64) -> String {
    serde_json::to_string(&x).unwrap_or_default()
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

pub(crate) const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;\
color:#111;line-height:1.45}h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #bbb}\
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.2rem .5rem;\
text-align:left}td[data-m]{text-align:right;font-variant-numeric:tabular-nums}caption{text-align:left;\
font-weight:600;padding:.3rem 0}figure{margin:.5rem 0}figcaption{font-size:.85rem;color:#444}\
svg{max-width:100%;height:auto}.none{font-style:italic}code{font-size:.9em}";

/// The HTML page in `lang`; with `csv` (where the report's CSV is served), a CSV link beside every
/// chart.
pub(super) fn html(r: &Report, lang: ReportLang, csv: Option<&str>) -> String {
    let y = r.year;
    let mut p = Page { out: String::with_capacity(32 * 1024), charts: 0, csv, lang };
    let year = y.to_string();
    let _ = write!(
        p.out,
        "<!DOCTYPE html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\
         <h1>{h1}</h1><p>{intro}</p>",
        code = lang.code(),
        title = f(lang, "page.title", &[&year]),
        h1 = f(lang, "page.h1", &[&year]),
        intro = f(lang, "page.intro", &[&format!("<code>{}</code>", esc(&r.ledger.origin))]),
    );
    let t = &r.totals;
    p.h2("summary");
    p.scalars(
        "totals",
        &[
            ("requests", t.requests.to_string()),
            ("permit", t.permit.to_string()),
            ("deny", t.deny.to_string()),
            ("review", t.review.to_string()),
            ("approved_on_review", t.approved_on_review.to_string()),
            ("denied_on_review", t.denied_on_review.to_string()),
            ("pending_review", t.pending_review.to_string()),
            ("outside_requests", t.outside_requests.to_string()),
            ("outside_released", t.outside_released.to_string()),
            ("refused", t.refused.to_string()),
            ("entries", t.entries.to_string()),
        ],
    );
    let u = &r.uses;
    p.h2("uses");
    p.decisions("uses.by_data_type", &u.by_data_type, y);
    p.decisions("uses.by_source", &u.by_source, y);
    p.decisions("uses.by_action", &u.by_action, y);
    p.decisions("uses.by_purpose", &u.by_purpose, y);
    p.decisions("uses.by_legal_basis", &u.by_legal_basis, y);
    p.decisions("uses.by_month", &u.by_month, y);
    p.decisions("uses.by_requester", &u.by_requester, y);
    let s = &r.sharing;
    p.h2("sharing");
    let _ = write!(p.out, "<p>{}</p>", p.t("sharing.intro"));
    p.decisions("sharing.by_recipient", &s.by_recipient, y);
    p.decisions("sharing.by_recipient_kind", &s.by_recipient_kind, y);
    p.decisions("sharing.by_originator", &s.by_originator, y);
    p.decisions("sharing.by_owner_and_recipient_kind", &s.by_owner_and_recipient_kind, y);
    p.h2("citations");
    let _ = write!(p.out, "<p>{}</p>", p.t("citations.intro"));
    p.counts("citations.denials", Some("col.citation"), &r.citations.denials, y);
    p.counts("citations.reviews", Some("col.citation"), &r.citations.reviews, y);
    p.counts("citations.permits", Some("col.citation"), &r.citations.permits, y);
    let rv = &r.reviews;
    p.h2("reviews");
    p.scalars(
        "reviews",
        &[
            ("held", rv.held.to_string()),
            ("approved", rv.approved.to_string()),
            ("denied", rv.denied.to_string()),
            ("pending", rv.pending.to_string()),
            (
                "median_hours_to_verdict",
                rv.median_hours_to_verdict.map_or_else(|| p.t("reviews.median.none").to_string(), |h| format!("{h:?}")),
            ),
        ],
    );
    p.counts("reviews.verdicts_in_year", None, &rv.verdicts_in_year, y);
    let o = &r.obligations;
    p.h2("obligations");
    p.scalars(
        "obligations",
        &[("releases", o.releases.to_string()), ("releases_with_obligations", o.releases_with_obligations.to_string())],
    );
    p.counts("obligations.by_kind", Some("col.meaning"), &o.by_kind, y);
    p.counts("obligations.by_obligation", None, &o.by_obligation, y);
    p.counts("obligations.notices_by_agency", Some("col.agency"), &o.notices_by_agency, y);
    p.funding(&r.funding, y);
    p.federation(&r.federation, y);
    let fi = &r.findings;
    p.h2("findings");
    p.counts("findings.justification_signals", None, &fi.justification_signals, y);
    if fi.detectors_ran {
        p.counts("findings.by_kind", None, &fi.by_kind, y);
    } else {
        let _ =
            write!(p.out, "<h3>{}</h3><p class=\"none\">{}</p>", p.t("findings.detectors"), p.t("findings.not_ran"));
    }
    let v = &r.violations;
    p.h2("violations");
    // The English statement is the report's own (its JSON's); another language's is made from
    // the same counts.
    let said = match lang {
        ReportLang::En => v.statement.clone(),
        _ => statement(v, fi.detectors_ran, lang),
    };
    let _ = write!(p.out, "<p>{}</p>", esc(&said));
    p.scalars(
        "violations",
        &[
            ("complaints_recorded", v.complaints_recorded.to_string()),
            ("high_severity_findings", v.high_severity_findings.to_string()),
        ],
    );
    p.counts("violations.refused_by_agency", Some("col.agency"), &v.refused_by_agency, y);
    p.h2("method");
    let method = f(
        lang,
        "method",
        &[
            &esc(&r.period.start),
            &esc(&r.period.end),
            r.period.time_zone,
            &esc(&r.ledger.origin),
            &r.ledger.tree_size.to_string(),
            &esc(&r.ledger.root),
            r.format,
        ],
    );
    let _ = write!(p.out, "<p>{method}</p></body></html>");
    p.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transparency::LedgerInfo;

    /// Messages that may read the same in both languages (names, codes): none so far.
    const SAME: &[&str] = &[];

    #[test]
    fn every_message_exists_in_both_languages_and_is_translated() {
        let mut keys = std::collections::HashSet::new();
        for (key, en, es) in MESSAGES {
            assert!(keys.insert(key), "{key} twice");
            assert!(!en.trim().is_empty() && !es.trim().is_empty(), "{key}");
            if !SAME.contains(key) {
                assert_ne!(en, es, "{key} is not translated");
            }
            for i in 0..10 {
                let p = format!("{{{i}}}");
                assert_eq!(en.contains(&p), es.contains(&p), "{key}: {p} in one language only");
            }
            for (lang, text) in [("en", en), ("es", es)] {
                assert_eq!(text.matches('<').count(), text.matches('>').count(), "{key} ({lang}): unbalanced markup");
            }
        }
    }

    #[test]
    fn filling_in_is_one_pass() {
        assert_eq!(f(ReportLang::En, "none", &["2025", "{1} x"]), "None recorded in 2025: {1} x.");
        assert_eq!(f(ReportLang::Es, "csv", &["a &amp; b"]), "Datos en CSV: a &amp; b");
        assert_eq!(f(ReportLang::En, "none", &["2025"]), "None recorded in 2025: {1}.");
    }

    fn row(key: &str, n: u64) -> Row {
        Row {
            key: key.into(),
            label: Some("Cuerpo Uno".into()),
            requests: 4 * n,
            permit: n,
            deny: n,
            review: 2 * n,
            approved_on_review: n,
            denied_on_review: n,
        }
    }

    fn count(key: &str, label: Option<&str>, n: u64) -> CountRow {
        CountRow { key: key.into(), label: label.map(str::to_string), count: n }
    }

    /// A report with a row in every list (keys and labels that are no English words), and one
    /// with none.
    fn reports() -> Vec<Report> {
        let info = LedgerInfo { origin: "hub.example/log".into(), tree_size: 42, root: "AAEC".into() };
        let none = std::iter::empty::<Result<(u64, model::entry::Entry), std::convert::Infallible>>();
        let empty = Report::build(2025, info.clone(), None, none).unwrap();
        let mut full = empty.clone();
        full.totals.requests = 9;
        let u = &mut full.uses;
        for list in [
            &mut u.by_data_type,
            &mut u.by_source,
            &mut u.by_action,
            &mut u.by_purpose,
            &mut u.by_legal_basis,
            &mut u.by_month,
            &mut u.by_requester,
            &mut full.sharing.by_recipient,
            &mut full.sharing.by_recipient_kind,
            &mut full.sharing.by_originator,
            &mut full.sharing.by_owner_and_recipient_kind,
        ] {
            *list = vec![row("k-uno", 1), row("k-dos", 3), row("k-cero", 0)];
        }
        let c = &mut full.citations;
        for list in [&mut c.denials, &mut c.reviews, &mut c.permits] {
            *list = vec![count("ca-7284.6", Some("Cal. Gov. Code 7284.6(a)(1)(C), (D)"), 3)];
        }
        full.reviews.verdicts_in_year = vec![count("k-veredicto", None, 2)];
        full.reviews.median_hours_to_verdict = Some(1.5);
        full.obligations.by_kind =
            ["redact", "release_only", "notify_subject", "certify", "record_dissemination", "report"]
                .iter()
                .map(|k| count(k, obligation_label(k, ReportLang::En), 1))
                .collect();
        full.obligations.by_obligation = vec![count("k-obligacion", None, 1)];
        full.obligations.notices_by_agency = vec![count("k-agencia", Some("Cuerpo Uno"), 1)];
        full.findings.justification_signals = vec![count("k-senal", None, 1)];
        full.violations.refused_by_agency = vec![count("k-agencia", Some("Cuerpo Uno"), 2)];
        full.violations.statement = statement(&full.violations, false, ReportLang::En);
        full.funding = super::super::FundingSection {
            provided: true,
            entries: vec![super::super::FundingRow {
                key: "1".into(),
                program: "k-programa".into(),
                grantor: "k-fuente".into(),
                purpose: "k-proposito".into(),
                amount_usd: 10.5,
            }],
            by_grantor: vec![super::super::GrantorRow { key: "k-fuente".into(), amount_usd: 10.5, entries: 1 }],
            total_usd: 10.5,
        };
        full.federation = super::super::FederationSection {
            by_peer: vec![
                super::super::PeerRow {
                    key: "centro-uno.example/registro".into(),
                    sent: 3,
                    sent_permit: 1,
                    sent_deny: 1,
                    sent_review: 1,
                    answered_permit: 1,
                    received: 2,
                    received_deny: 2,
                    forward_failed: 1,
                    ..Default::default()
                },
                super::super::PeerRow {
                    key: super::super::UNKNOWN_PEER.into(),
                    label: Some(t(ReportLang::En, "federation.unknown").into()),
                    refused: 2,
                    ..Default::default()
                },
            ],
            forward_failures: vec![count("k-motivo", None, 1)],
            refusals: vec![count("k-rechazo", None, 2)],
        };
        let mut found = full.clone();
        found.funding.entries.clear();
        found.funding.by_grantor.clear();
        found.findings.detectors_ran = true;
        found.findings.by_kind = vec![count("k-hallazgo", None, 1)];
        found.violations.high_severity_findings = 1;
        found.violations.statement = statement(&found.violations, true, ReportLang::En);
        let mut quiet = empty.clone().with_findings(&[]);
        quiet.reviews.median_hours_to_verdict = None;
        vec![empty, full, found, quiet]
    }

    /// The text a reader sees: tags removed (attributes with them) and the style sheet, entities
    /// decoded.
    fn text_of(html: &str) -> String {
        let html = html.replace(STYLE, "");
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => {
                    in_tag = true;
                    out.push('\n');
                }
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    /// Whether `needle` is in `hay` as whole words (not inside a longer word).
    fn has_words(hay: &str, needle: &str) -> bool {
        hay.match_indices(needle).any(|(i, _)| {
            let before = hay[..i].chars().next_back();
            let after = hay[i + needle.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
    }

    /// The pieces of a message a reader sees whatever is filled in: the text between
    /// placeholders and markup, that has a letter and is not also in the other language's message.
    fn fragments<'a>(text: &'a str, other: &str) -> Vec<&'a str> {
        text.split(['<', '>', '{', '}'])
            .enumerate()
            // Outside markup and placeholders: every other piece, from the first.
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, s)| s.trim_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation()))
            .filter(|s| s.chars().any(char::is_alphabetic) && !has_words(other, s))
            .collect()
    }

    /// Every tag with a `data-` attribute and the text after it (a table's section, a row's key, a
    /// cell's measure and number), in order; the words for "no median" read as in English.
    fn data_attributes(html: &str) -> Vec<String> {
        let none = [t(ReportLang::En, "reviews.median.none"), t(ReportLang::Es, "reviews.median.none")];
        html.split('<')
            .filter(|s| s.split('>').next().is_some_and(|tag| tag.contains(" data-")))
            .map(|s| s.replace(&format!(">{}", none[1]), &format!(">{}", none[0])))
            .collect()
    }

    #[test]
    fn the_spanish_page_has_no_english_message_and_the_english_page_is_unchanged() {
        let mut seen = std::collections::HashSet::new();
        for r in reports() {
            let csv = "/transparency.csv?year=2025";
            let en = html(&r, ReportLang::En, Some(csv));
            assert_eq!(en, r.html_with_csv(csv));
            assert_eq!(html(&r, ReportLang::En, None), r.html());
            assert!(en.starts_with("<!DOCTYPE html><html lang=\"en\">"));
            let es = r.html_in(ReportLang::Es, Some(csv));
            assert!(es.starts_with("<!DOCTYPE html><html lang=\"es\">"), "{}", &es[..60]);
            let (en_text, es_text) = (text_of(&en), text_of(&es));
            for (key, en_msg, es_msg) in MESSAGES {
                let pieces = fragments(en_msg, es_msg);
                if pieces.is_empty() {
                    // Nothing of it is English only ("CSV: {0}"): nothing to look for.
                    seen.insert(*key);
                }
                for piece in pieces {
                    assert!(!has_words(&es_text, piece), "{key}: {piece:?} (English) is in the Spanish page");
                    if has_words(&en_text, piece) {
                        seen.insert(*key);
                    }
                }
            }
            // The same tables, rows and cells, in the same order.
            assert_eq!(data_attributes(&en), data_attributes(&es));
            assert!(data_attributes(&es).len() > 20 || r.uses.by_source.is_empty());
            assert!(es.contains("Cal. Gov. Code 7284.6(a)(1)(C), (D)") || r.citations.denials.is_empty());
        }
        // Every message was on some English page (so the Spanish check covered it).
        for (key, _, _) in MESSAGES {
            assert!(seen.contains(key), "{key} was never rendered");
        }
    }
}
