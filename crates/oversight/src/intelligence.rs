//! Criminal intelligence systems (gang databases, fusion-centre intelligence files) against the
//! retention limit of 28 CFR 23.20(h): information "must be reviewed and validated for continuing
//! compliance with system submission criteria before the expiration of its retention period, which
//! in no event shall be longer than five (5) years".
//!
//! Input: a CSV export with one row per record. Columns are recognised by their normalised name
//! (lowercase words: `Record_ID`, `record id` and `RECORD-ID` are one column):
//!
//! | field | header names | cell |
//! |---|---|---|
//! | record id (required) | `record id`, `id`, `record`, `record number`, `file number`, `entry id`, `intel id` | not empty |
//! | entry date (required) | `entry date`, `entered`, `date entered`, `created`, `created at`, `submitted`, `submission date`, `input date` | a date |
//! | last review (optional) | `last review`, `last reviewed`, `review date`, `last review date`, `last validation`, `last validated`, `validated`, `validation date`, `revalidated`, `revalidation date`, `reviewed` | a date, or empty for never |
//! | purge date (optional) | `purge date`, `purged`, `purged on`, `purging date`, `date purged`, `purge` | a date, or empty while held |
//! | agency (optional) | `agency`, `submitting agency`, `originating agency`, `source agency` | text, quoted in evidence |
//!
//! Other columns are ignored. Dates are read by [`crate::time::parse`] (`2019-03-01`,
//! `3/1/2019`, with or without a time). A purge date after the as-of date is read as a scheduled
//! purge: the record is still held on the as-of date.
//!
//! The rule: the retention period runs from the later of the entry date and the last review; a
//! record held (until its purge date, or the as-of date if it is not purged by then) more than five
//! calendar years after that is a `retention_exceeded` finding, high if still held, medium if it
//! was purged late. A row is rejected, with its line, column and reason, when its id is empty, a
//! date does not parse, the entry date is after the as-of date, or the last review or the purge
//! date is before the entry date.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::finding::{Finding, Kind, Severity, Subject};
use crate::stats::{next_record, ImportStats};
use crate::time::{self, Timestamp};

/// The citation of the rule.
pub const CITATION: &str = "28 CFR 23.20(h) (criminal intelligence information reviewed and validated \
     before its retention period expires, in no event longer than five years)";

const ID: &[&str] = &["record id", "id", "record", "record number", "file number", "entry id", "intel id"];
const ENTRY: &[&str] =
    &["entry date", "entered", "date entered", "created", "created at", "submitted", "submission date", "input date"];
const REVIEW: &[&str] = &[
    "last review",
    "last reviewed",
    "review date",
    "last review date",
    "last validation",
    "last validated",
    "validated",
    "validation date",
    "revalidated",
    "revalidation date",
    "reviewed",
];
const PURGE: &[&str] = &["purge date", "purged", "purged on", "purging date", "date purged", "purge"];
const AGENCY: &[&str] = &["agency", "submitting agency", "originating agency", "source agency"];

/// The retention limit, in years.
pub const RETENTION_YEARS: i64 = 5;

/// The day `years` calendar years after `t`'s date (29 February becomes 28 February).
pub fn add_years(t: Timestamp, years: i64) -> Timestamp {
    let (y, m, d) = t.date();
    let d = d.min(time::days_in_month(y + years, m));
    Timestamp::from_fields((y + years, m, d), (0, 0, 0, 0), t.zone_known)
}

fn day(t: Timestamp) -> i64 {
    t.seconds().div_euclid(86_400)
}

fn date(t: Timestamp) -> String {
    let (y, m, d) = t.date();
    format!("{y:04}-{m:02}-{d:02}")
}

/// Audits an intelligence-record export read from `input` as of the day `as_of` (`path` names it
/// in messages).
pub fn audit<R: Read>(path: &Path, input: R, as_of: Timestamp, out: &mut dyn FnMut(Finding)) -> Result<ImportStats> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader.headers().map_err(|e| Error::csv(path, e))?.clone();
    let col = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.contains(&crate::directory::normalize(h.trim_start_matches('\u{feff}')).as_str()))
    };
    let (Some(id), Some(entry)) = (col(ID), col(ENTRY)) else {
        return Err(Error::Header {
            path: path.to_owned(),
            message: format!(
                "not an intelligence-record export: needs a record id column (record_id) and an entry date \
                 column (entry_date); columns found: {}",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        });
    };
    let (review, purge, agency) = (col(REVIEW), col(PURGE), col(AGENCY));
    let mut stats = ImportStats::default();
    if review.is_none() {
        stats
            .notes
            .push("no last-review column: every record's retention period is counted from its entry date".into());
    }
    if purge.is_none() {
        stats.notes.push("no purge-date column: every record is taken as still held".into());
    }
    let as_of_day = day(as_of);
    let mut record = csv::StringRecord::new();
    while next_record(&mut reader, &mut record, &mut stats, path)? {
        stats.read += 1;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != headers.len() {
            stats.reject(line, None, format!("{} fields, the header has {}", record.len(), headers.len()));
            continue;
        }
        let name = |i: usize| headers[i].trim_start_matches('\u{feff}');
        let rid = record[id].trim();
        if rid.is_empty() {
            stats.reject(line, Some(name(id)), "empty record id");
            continue;
        }
        let date_at = |i: Option<usize>| -> std::result::Result<Option<Timestamp>, (usize, String)> {
            match i.map(|i| (i, record[i].trim())) {
                None | Some((_, "")) => Ok(None),
                Some((i, t)) => time::parse(t).map(Some).map_err(|e| (i, e)),
            }
        };
        let parsed = (|| {
            let entered = date_at(Some(entry))?.ok_or((entry, "empty entry date".to_owned()))?;
            let reviewed = date_at(review)?;
            let purged = date_at(purge)?;
            if day(entered) > as_of_day {
                return Err((entry, format!("entry date {} is after the as-of date {}", date(entered), date(as_of))));
            }
            for (t, i, what) in [(reviewed, review, "last review"), (purged, purge, "purge date")] {
                if let (Some(t), Some(i)) = (t, i) {
                    if day(t) < day(entered) {
                        return Err((i, format!("{what} {} is before the entry date {}", date(t), date(entered))));
                    }
                }
            }
            Ok((entered, reviewed, purged))
        })();
        let (entered, reviewed, purged) = match parsed {
            Ok(v) => v,
            Err((i, reason)) => {
                stats.reject(line, Some(name(i)), reason);
                continue;
            }
        };
        stats.kept += 1;
        let start = match reviewed {
            Some(r) if day(r) > day(entered) => r,
            _ => entered,
        };
        let limit = add_years(start, RETENTION_YEARS);
        let still_held = purged.is_none_or(|p| day(p) > as_of_day);
        let until = if still_held { as_of } else { purged.unwrap_or(as_of) };
        if day(until) <= day(limit) {
            continue;
        }
        let over = day(until) - day(limit);
        let agency = agency.map(|i| record[i].trim()).filter(|a| !a.is_empty());
        let review_text = reviewed.map_or("never reviewed".to_owned(), |r| format!("last reviewed {}", date(r)));
        let held =
            if still_held { format!("still held on {}", date(as_of)) } else { format!("purged {}", date(until)) };
        stats.findings += 1;
        out(Finding {
            kind: Kind::RetentionExceeded,
            severity: if still_held { Severity::High } else { Severity::Medium },
            subject: Subject::Record { record: rid.to_owned() },
            line,
            evidence: format!(
                "{}entered {}, {review_text}, {held}: {over} days past the five-year limit ({})",
                agency.map(|a| format!("{a:?}: ")).unwrap_or_default(),
                date(entered),
                date(limit)
            ),
            rule: "intelligence.retention",
            citation: CITATION,
            agency: agency.map(str::to_owned),
            user: None,
            time: Some(entered),
            file: None,
            also_in: Vec::new(),
        });
    }
    Ok(stats)
}

/// Audits an intelligence-record export file as of the day `as_of`.
pub fn audit_file(path: &Path, as_of: Timestamp, out: &mut dyn FnMut(Finding)) -> Result<ImportStats> {
    let f = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    audit(path, std::io::BufReader::new(f), as_of, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_calendar_years() {
        let t = |s| time::parse(s).unwrap();
        assert_eq!(date(add_years(t("2019-03-01"), 5)), "2024-03-01");
        assert_eq!(date(add_years(t("2020-02-29"), 5)), "2025-02-28");
        assert_eq!(date(add_years(t("2020-02-29 13:00"), 4)), "2024-02-29");
    }
}
