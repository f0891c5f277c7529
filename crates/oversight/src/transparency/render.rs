//! HTML and CSV renderings of a [`Report`]. The CSV is a walk over the JSON form, so the two
//! cannot disagree; the HTML shows the same lists, each as a chart and the table of its numbers.

use std::fmt::Write as _;

use serde_json::Value;

use super::{CountRow, Report, Row};

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
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

/// Colour-blind-safe (Okabe-Ito) colours of permit, review, deny.
const OUTCOMES: [(&str, &str); 3] = [("permit", "#009E73"), ("review", "#E69F00"), ("deny", "#D55E00")];
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
}

impl Page<'_> {
    fn id(&mut self) -> String {
        self.charts += 1;
        format!("c{}", self.charts)
    }

    /// A link to the CSV of one table, when the report is served with its CSV.
    fn csv_link(&mut self, section: &str, title: &str) {
        if let Some(csv) = self.csv {
            let _ = write!(
                self.out,
                "<p class=\"csv\"><a href=\"{}&amp;table={}\">CSV: {}</a></p>",
                esc(csv),
                esc(section),
                esc(title)
            );
        }
    }

    fn none(&mut self, what: &str, year: i64) {
        let _ = write!(self.out, "<p class=\"none\">None recorded in {year}: {}.</p>", esc(what));
    }

    /// A stacked bar chart of permit/review/deny per row, and its table.
    fn decisions(&mut self, section: &str, title: &str, rows: &[Row], year: i64) {
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
        let _ = write!(
            self.out,
            "<figure><svg role=\"img\" aria-labelledby=\"{id}t {id}d\" width=\"{CHART_W}\" height=\"{height}\" \
             viewBox=\"0 0 {CHART_W} {height}\" xmlns=\"http://www.w3.org/2000/svg\">\
             <title id=\"{id}t\">{t}</title><desc id=\"{id}d\">Bar chart of {n} rows: decisions per {t_lower}, \
             split into permitted, held for review and denied; the table below gives every number.</desc>",
            t = esc(title),
            n = rows.len(),
            t_lower = esc(&title.to_lowercase())
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
            for (name, colour) in OUTCOMES {
                let n = match name {
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
                    k = esc(&r.key)
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
        for (name, colour) in OUTCOMES {
            let _ = write!(
                self.out,
                "<rect x=\"{lx}\" y=\"{ry}\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\
                 <text x=\"{tx}\" y=\"{ly}\" font-size=\"12\">{name}</text>",
                ry = ly - 10,
                tx = lx + 16
            );
            lx += 90;
        }
        let _ = write!(self.out, "</svg><figcaption>{}</figcaption></figure>", esc(title));
        let _ = write!(
            self.out,
            "<table data-section=\"{section}\"><caption>{t}</caption><thead><tr><th scope=\"col\">Key</th>\
             <th scope=\"col\">Name</th><th scope=\"col\">Requests</th><th scope=\"col\">Permitted</th>\
             <th scope=\"col\">Denied</th><th scope=\"col\">Held for review</th><th scope=\"col\">Approved on review</th>\
             <th scope=\"col\">Denied on review</th></tr></thead><tbody>",
            t = esc(title)
        );
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

    /// A bar chart of counts, and its table.
    fn counts(&mut self, section: &str, title: &str, label_head: &str, rows: &[CountRow], year: i64) {
        let _ = write!(self.out, "<h3>{}</h3>", esc(title));
        if rows.is_empty() {
            self.none(&title.to_lowercase(), year);
            return;
        }
        let id = self.id();
        let max = rows.iter().map(|r| r.count).max().unwrap_or(0).max(1);
        let height = ROW_H * rows.len() as u32 + 8;
        let _ = write!(
            self.out,
            "<figure><svg role=\"img\" aria-labelledby=\"{id}t {id}d\" width=\"{CHART_W}\" height=\"{height}\" \
             viewBox=\"0 0 {CHART_W} {height}\" xmlns=\"http://www.w3.org/2000/svg\">\
             <title id=\"{id}t\">{t}</title><desc id=\"{id}d\">Bar chart of {n} rows; the table below gives every \
             number.</desc>",
            t = esc(title),
            n = rows.len()
        );
        let scale = f64::from(CHART_W - LABEL_W - 60) / max as f64;
        for (i, r) in rows.iter().enumerate() {
            let y = i as u32 * ROW_H;
            let w = r.count as f64 * scale;
            let _ = write!(
                self.out,
                "<text x=\"{x}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"12\">{label}</text>\
                 <rect x=\"{LABEL_W}\" y=\"{ry}\" width=\"{w:.1}\" height=\"{h}\" fill=\"{BAR}\"><title>{k}: {n}</title></rect>\
                 <text x=\"{tx:.1}\" y=\"{ty}\" font-size=\"12\">{n}</text>",
                x = LABEL_W - 6,
                ty = y + 15,
                label = esc(&short(&r.key, 34)),
                ry = y + 3,
                h = ROW_H - 6,
                k = esc(&r.key),
                n = r.count,
                tx = f64::from(LABEL_W) + w + 4.0
            );
        }
        let _ = write!(self.out, "</svg><figcaption>{}</figcaption></figure>", esc(title));
        let _ = write!(
            self.out,
            "<table data-section=\"{section}\"><caption>{t}</caption><thead><tr><th scope=\"col\">Key</th>\
             <th scope=\"col\">{lh}</th><th scope=\"col\">Count</th></tr></thead><tbody>",
            t = esc(title),
            lh = esc(label_head)
        );
        for r in rows {
            let _ = write!(
                self.out,
                "<tr data-key=\"{k}\"><th scope=\"row\">{k}</th><td>{label}</td><td data-m=\"count\">{n}</td></tr>",
                k = esc(&r.key),
                label = esc(r.label.as_deref().unwrap_or("")),
                n = r.count
            );
        }
        self.out.push_str("</tbody></table>");
        self.csv_link(section, title);
    }

    /// A table of single numbers (no chart: each is one number).
    fn scalars(&mut self, section: &str, title: &str, rows: &[(&str, &str, String)]) {
        let _ = write!(self.out, "<table data-section=\"{section}\"><caption>{t}</caption><tbody>", t = esc(title));
        for (measure, name, value) in rows {
            let _ = write!(
                self.out,
                "<tr data-key=\"\"><th scope=\"row\">{}</th><td data-m=\"{measure}\">{}</td></tr>",
                esc(name),
                esc(value)
            );
        }
        self.out.push_str("</tbody></table>");
    }
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

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;\
color:#111;line-height:1.45}h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #bbb}\
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.2rem .5rem;\
text-align:left}td[data-m]{text-align:right;font-variant-numeric:tabular-nums}caption{text-align:left;\
font-weight:600;padding:.3rem 0}figure{margin:.5rem 0}figcaption{font-size:.85rem;color:#444}\
svg{max-width:100%;height:auto}.none{font-style:italic}code{font-size:.9em}";

/// The HTML page; with `csv` (where the report's CSV is served), a CSV link beside every chart.
pub(super) fn html(r: &Report, csv: Option<&str>) -> String {
    let y = r.year;
    let mut p = Page { out: String::with_capacity(32 * 1024), charts: 0, csv };
    let _ = write!(
        p.out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Surveillance use transparency report {y}</title><style>{STYLE}</style></head><body>\
         <h1>Surveillance use transparency report, {y}</h1>\
         <p>Annual report on the use of the data-sharing hub <code>{origin}</code>, in the form local surveillance \
         ordinances require: how it was used, what was shared with whom and under what authority, what was denied \
         and why, supervisors' reviews, safeguards carried out, findings, complaints and violations. Every number \
         is counted from the hub's public, verifiable ledger; this report holds aggregates only and no personal \
         data.</p>",
        origin = esc(&r.ledger.origin)
    );
    let t = &r.totals;
    p.out.push_str("<h2 id=\"summary\">Summary</h2>");
    p.scalars(
        "totals",
        "Totals for the year",
        &[
            ("requests", "Requests decided", t.requests.to_string()),
            ("permit", "Permitted", t.permit.to_string()),
            ("deny", "Denied", t.deny.to_string()),
            ("review", "Held for a supervisor's review", t.review.to_string()),
            ("approved_on_review", "Approved on review", t.approved_on_review.to_string()),
            ("denied_on_review", "Denied on review", t.denied_on_review.to_string()),
            ("pending_review", "Review pending", t.pending_review.to_string()),
            ("outside_requests", "Requests from agencies other than the data's owner", t.outside_requests.to_string()),
            ("outside_released", "Of which data was released", t.outside_released.to_string()),
            ("refused", "Refused attempts (impersonation)", t.refused.to_string()),
            ("entries", "Ledger entries dated in the year", t.entries.to_string()),
        ],
    );
    let u = &r.uses;
    p.out.push_str("<h2 id=\"uses\">Uses</h2>");
    p.decisions("uses.by_data_type", "Requests by data type", &u.by_data_type, y);
    p.decisions("uses.by_source", "Requests by source", &u.by_source, y);
    p.decisions("uses.by_action", "Requests by action", &u.by_action, y);
    p.decisions("uses.by_purpose", "Requests by purpose", &u.by_purpose, y);
    p.decisions("uses.by_legal_basis", "Requests by legal basis", &u.by_legal_basis, y);
    p.decisions("uses.by_month", "Requests by month (UTC)", &u.by_month, y);
    p.decisions("uses.by_requester", "Requests by requesting agency", &u.by_requester, y);
    let s = &r.sharing;
    p.out.push_str(
        "<h2 id=\"sharing\">Sharing outside the owning agency</h2><p>Requests from an agency other than the one \
         that owns the data, by requesting (receiving) agency, by kind of agency, and, for forwarded requests, by \
         the agency that originated them.</p>",
    );
    p.decisions("sharing.by_recipient", "Outside requests by recipient agency", &s.by_recipient, y);
    p.decisions("sharing.by_recipient_kind", "Outside requests by kind of recipient agency", &s.by_recipient_kind, y);
    p.decisions("sharing.by_originator", "Forwarded requests by originating agency", &s.by_originator, y);
    p.decisions(
        "sharing.by_owner_and_recipient_kind",
        "Outside requests by owning agency and kind of recipient",
        &s.by_owner_and_recipient_kind,
        y,
    );
    p.out.push_str(
        "<h2 id=\"citations\">Decisions by citation</h2><p>Each decision cites the policies of the law \
         library that decided it; a decision citing several is counted under each.</p>",
    );
    p.counts("citations.denials", "Denials by citation", "Citation", &r.citations.denials, y);
    p.counts("citations.reviews", "Requests held for review, by citation", "Citation", &r.citations.reviews, y);
    p.counts("citations.permits", "Permits by citation", "Citation", &r.citations.permits, y);
    let rv = &r.reviews;
    p.out.push_str("<h2 id=\"reviews\">Reviews and their outcomes</h2>");
    p.scalars(
        "reviews",
        "Requests held for review in the year",
        &[
            ("held", "Held", rv.held.to_string()),
            ("approved", "Approved", rv.approved.to_string()),
            ("denied", "Denied", rv.denied.to_string()),
            ("pending", "Pending at the checkpoint", rv.pending.to_string()),
            (
                "median_hours_to_verdict",
                "Median hours from hold to verdict",
                rv.median_hours_to_verdict.map_or_else(|| "none".to_string(), |h| format!("{h:?}")),
            ),
        ],
    );
    p.counts("reviews.verdicts_in_year", "Verdicts given in the year", "", &rv.verdicts_in_year, y);
    let o = &r.obligations;
    p.out.push_str("<h2 id=\"obligations\">Safeguards carried out</h2>");
    p.scalars(
        "obligations",
        "Releases and their obligations",
        &[
            ("releases", "Releases (permits and approvals)", o.releases.to_string()),
            ("releases_with_obligations", "Releases carrying obligations", o.releases_with_obligations.to_string()),
        ],
    );
    p.counts("obligations.by_kind", "Obligations by kind", "Meaning", &o.by_kind, y);
    p.counts("obligations.by_obligation", "Obligations as written", "", &o.by_obligation, y);
    p.counts(
        "obligations.notices_by_agency",
        "Notices to the people requests were about, by agency",
        "Agency",
        &o.notices_by_agency,
        y,
    );
    let f = &r.findings;
    p.out.push_str("<h2 id=\"findings\">Findings</h2>");
    p.counts(
        "findings.justification_signals",
        "Immigration-enforcement signals in justifications (checkpoint classifier), by strength and decision",
        "",
        &f.justification_signals,
        y,
    );
    if f.detectors_ran {
        p.counts("findings.by_kind", "Oversight detector findings by kind and severity", "", &f.by_kind, y);
    } else {
        p.out.push_str(
            "<h3>Oversight detector findings</h3><p class=\"none\">The oversight detectors did not run on the ledger \
             for this report.</p>",
        );
    }
    let v = &r.violations;
    p.out.push_str("<h2 id=\"violations\">Complaints and violations</h2>");
    let _ = write!(p.out, "<p>{}</p>", esc(&v.statement));
    p.scalars(
        "violations",
        "Complaints and violations recorded",
        &[
            ("complaints_recorded", "Complaints recorded", v.complaints_recorded.to_string()),
            ("high_severity_findings", "High-severity detector findings", v.high_severity_findings.to_string()),
        ],
    );
    p.counts(
        "violations.refused_by_agency",
        "Refused attempts by the agency holding the token",
        "Agency",
        &v.refused_by_agency,
        y,
    );
    let _ = write!(
        p.out,
        "<h2 id=\"method\">How this report was made</h2><p>Period: {start} to {end} (exclusive), {tz}: an entry counts \
         in the year its ledger time falls in, in UTC. Computed from the verified ledger <code>{origin}</code>, \
         checkpoint of {size} entries, root hash <code>{root}</code>: every entry bundle and hash tile was checked \
         against the signed checkpoint before any entry was counted. Anyone can check the ledger with \
         <code>fusionguard ledger verify</code> and recount with <code>fusionguard report transparency</code>. \
         Format: <code>{format}</code>.</p></body></html>",
        start = esc(&r.period.start),
        end = esc(&r.period.end),
        tz = r.period.time_zone,
        origin = esc(&r.ledger.origin),
        size = r.ledger.tree_size,
        root = esc(&r.ledger.root),
        format = r.format,
    );
    p.out
}
