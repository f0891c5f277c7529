//! Timestamps as agencies' exports write them, parsed by hand (no time-zone database needed).
//!
//! Accepted forms (seen in real Flock exports and their documented variants):
//! - `2025-06-18 00:02:04.789` (Flock transparency portal; no zone written),
//! - `11/14/2025, 09:53:36 AM UTC` (organization and network audits),
//! - `2025-06-18T19:17:43.792Z`, `2025-06-18T19:17:43+02:00` (ISO 8601 / RFC 3339),
//! - `11/14/2025 09:53` and other combinations of the date forms `YYYY-MM-DD` and `M/D/YYYY`
//!   with `H:MM[:SS[.fff]]`, an optional `AM`/`PM` and an optional zone (`UTC`, `GMT`, `Z`, `±HH:MM`).
//!
//! A time written without a zone is kept as written ([`Timestamp::zone_known`] is false): the
//! detectors that use the hour of day compare an officer with their own habits, so the zone does
//! not change what they find.

use std::fmt;

/// A point in time, as seconds and milliseconds since 1970-01-01T00:00:00 (UTC when the zone was
/// written, otherwise in the export's unstated local time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Milliseconds since the epoch.
    pub millis: i64,
    /// Whether the source wrote a zone (UTC or an offset).
    pub zone_known: bool,
}

impl Timestamp {
    /// Seconds since the epoch.
    pub fn seconds(self) -> i64 {
        self.millis.div_euclid(1000)
    }

    /// The hour of day (0..24).
    pub fn hour(self) -> u8 {
        (self.seconds().rem_euclid(86_400) / 3600) as u8
    }

    /// Whole minutes since the epoch.
    pub fn minute_index(self) -> i64 {
        self.seconds().div_euclid(60)
    }

    /// The calendar date (year, month, day).
    pub fn date(self) -> (i64, u32, u32) {
        civil_from_days(self.seconds().div_euclid(86_400))
    }

    /// Builds a timestamp from a date (year, month, day) and a time (hour, minute, second,
    /// millisecond); the caller validates the fields, as [`parse`] does.
    pub fn from_fields((y, mo, d): (i64, u32, u32), (h, mi, s, ms): (u32, u32, u32, u32), zone_known: bool) -> Self {
        let days = days_from_civil(y, mo, d);
        let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s);
        Self { millis: secs * 1000 + i64::from(ms), zone_known }
    }
}

impl fmt::Display for Timestamp {
    /// ISO 8601, with `Z` when the zone is known.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d) = self.date();
        let s = self.seconds().rem_euclid(86_400);
        write!(f, "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)?;
        if self.zone_known {
            f.write_str("Z")?;
        }
        Ok(())
    }
}

impl serde::Serialize for Timestamp {
    /// As [`Timestamp`]'s `Display` (ISO 8601).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

use model::date::is_leap_year;
pub use model::date::{civil_from_days, days_from_civil, days_in_month};

/// `unix_secs` (seconds since 1970-01-01T00:00:00Z) as RFC 3339 in UTC: `2026-05-09T07:29:33Z`.
pub fn rfc3339(unix_secs: i64) -> String {
    let (y, mo, d) = civil_from_days(unix_secs.div_euclid(86_400));
    let s = unix_secs.rem_euclid(86_400);
    format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

/// A byte cursor over the text being parsed.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i < self.b.len() && self.b[self.i].is_ascii_digit() && self.i - start < max {
            self.i += 1;
        }
        let n = self.i - start;
        if n < min {
            return None;
        }
        self.b[start..self.i].iter().try_fold(0u32, |acc, &c| acc.checked_mul(10)?.checked_add(u32::from(c - b'0')))
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn spaces(&mut self) -> usize {
        let start = self.i;
        while self.b.get(self.i) == Some(&b' ') {
            self.i += 1;
        }
        self.i - start
    }
    fn rest(&self) -> &[u8] {
        &self.b[self.i..]
    }
}

/// Parses a timestamp in one of the forms listed in the module documentation. The error is a short
/// description of what is wrong, for the importer to put beside the row and column.
///
/// The two forms of Flock exports written in full (`11/14/2025, 09:53:36 AM UTC` and
/// `2025-06-18 00:02:04.789`) take a fixed-position fast path; it accepts exactly what the general
/// parser accepts for them, with the same result, and hands anything else to the general parser.
pub fn parse(text: &str) -> Result<Timestamp, String> {
    match fast(text.as_bytes()) {
        Some(t) => Ok(t),
        None => parse_general(text),
    }
}

/// Digits at fixed positions: `b[at..at + n]` as a number.
#[inline(always)]
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    // Without a branch per digit: the positions are fixed and nearly always digits.
    let (mut acc, mut ok) = (0u32, true);
    for &c in &b[at..at + n] {
        let d = c.wrapping_sub(b'0');
        ok &= d < 10;
        acc = acc.wrapping_mul(10).wrapping_add(u32::from(d));
    }
    ok.then_some(acc)
}

/// Years whose day numbers [`day_number`] reads from a table: 1970 to 2099.
const TABLE_YEARS: std::ops::Range<i64> = 1970..2100;

/// Day number (days since 1970-01-01) of January 1 of each of [`TABLE_YEARS`].
const YEAR_START: [i64; 130] = {
    let mut t = [0; 130];
    let mut i = 1;
    while i < t.len() {
        let y = 1969 + i as i64;
        t[i] = t[i - 1] + if is_leap_year(y) { 366 } else { 365 };
        i += 1;
    }
    t
};

/// Days before the first of each month, in a common year and in a leap year.
const MONTH_START: [[i64; 12]; 2] =
    [[0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334], [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335]];

/// [`days_from_civil`] of a valid date, from tables for the years 1970-2099 (a few instructions,
/// where the formula divides).
#[inline]
fn day_number(y: i64, mo: u32, d: u32) -> i64 {
    if TABLE_YEARS.contains(&y) {
        YEAR_START[(y - 1970) as usize] + MONTH_START[usize::from(is_leap_year(y))][(mo - 1) as usize] + i64::from(d)
            - 1
    } else {
        days_from_civil(y, mo, d)
    }
}

fn fast(b: &[u8]) -> Option<Timestamp> {
    let (date, (h, mi, s, ms), zone_known) = match b.len() {
        // 11/14/2025, 09:53:36 AM UTC
        27 if b[2] == b'/' && b[5] == b'/' && &b[10..12] == b", " && b[14] == b':' && b[17] == b':' => {
            if b[20] != b' ' || &b[23..] != b" UTC" {
                return None;
            }
            let pm = match &b[21..23] {
                b"AM" => false,
                b"PM" => true,
                _ => return None,
            };
            let h = digits(b, 12, 2)?;
            if !(1..=12).contains(&h) {
                return None;
            }
            let h = match (h, pm) {
                (12, false) => 0,
                (12, true) => 12,
                (h, true) => h + 12,
                (h, false) => h,
            };
            let date = (i64::from(digits(b, 6, 4)?), digits(b, 0, 2)?, digits(b, 3, 2)?);
            (date, (h, digits(b, 15, 2)?, digits(b, 18, 2)?, 0), true)
        }
        // 2025-06-18 00:02:04.789
        23 if b[4] == b'-' && b[7] == b'-' && b[10] == b' ' && b[13] == b':' && b[16] == b':' && b[19] == b'.' => {
            let date = (i64::from(digits(b, 0, 4)?), digits(b, 5, 2)?, digits(b, 8, 2)?);
            (date, (digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?, digits(b, 20, 3)?), false)
        }
        _ => return None,
    };
    let (y, mo, d) = date;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = day_number(y, mo, d);
    let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s.min(59));
    Some(Timestamp { millis: secs * 1000 + i64::from(ms), zone_known })
}

/// The general parser behind [`parse`].
fn parse_general(text: &str) -> Result<Timestamp, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty time".into());
    }
    let bad = || {
        format!(
            "unrecognised time {t:?} (expected e.g. \"2025-06-18 00:02:04.789\" or \"11/14/2025, 09:53:36 AM UTC\")"
        )
    };
    let mut c = Cursor { b: t.as_bytes(), i: 0 };
    let first = c.number(1, 4).ok_or_else(bad)?;
    let (y, mo, d) = if c.eat(b'-') {
        let mo = c.number(1, 2).ok_or_else(bad)?;
        if !c.eat(b'-') {
            return Err(bad());
        }
        (i64::from(first), mo, c.number(1, 2).ok_or_else(bad)?)
    } else if c.eat(b'/') {
        let d = c.number(1, 2).ok_or_else(bad)?;
        if !c.eat(b'/') {
            return Err(bad());
        }
        let y = c.number(4, 4).ok_or_else(bad)?;
        (i64::from(y), first, d)
    } else {
        return Err(bad());
    };
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return Err(format!("impossible date in {t:?}"));
    }
    // Date only.
    if c.rest().is_empty() {
        return Ok(Timestamp::from_fields((y, mo, d), (0, 0, 0, 0), false));
    }
    let sep = c.eat(b'T') || c.eat(b',') || c.spaces() > 0;
    c.spaces();
    if !sep {
        return Err(bad());
    }
    let mut h = c.number(1, 2).ok_or_else(bad)?;
    if !c.eat(b':') {
        return Err(bad());
    }
    let mi = c.number(2, 2).ok_or_else(bad)?;
    let mut s = 0;
    let mut ms = 0;
    if c.eat(b':') {
        s = c.number(2, 2).ok_or_else(bad)?;
        if c.eat(b'.') {
            let start = c.i;
            let frac = c.number(1, 9).ok_or_else(bad)?;
            let digits = (c.i - start) as u32;
            ms = if digits >= 3 { frac / 10u32.pow(digits - 3) } else { frac * 10u32.pow(3 - digits) };
        }
    }
    c.spaces();
    let rest = c.rest();
    let (ampm, rest_len) = if rest.len() >= 2 && rest[..2].eq_ignore_ascii_case(b"AM") {
        (Some(false), 2)
    } else if rest.len() >= 2 && rest[..2].eq_ignore_ascii_case(b"PM") {
        (Some(true), 2)
    } else {
        (None, 0)
    };
    c.i += rest_len;
    if let Some(pm) = ampm {
        if !(1..=12).contains(&h) {
            return Err(format!("hour {h} with AM/PM in {t:?}"));
        }
        h = match (h, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    if h > 23 || mi > 59 || s > 60 {
        return Err(format!("impossible time of day in {t:?}"));
    }
    c.spaces();
    let zone = std::str::from_utf8(c.rest()).map_err(|_| bad())?;
    let (zone_known, offset_minutes) = match zone {
        "" => (false, 0i64),
        "Z" | "z" | "UTC" | "GMT" | "utc" | "+00:00" | "+0000" => (true, 0),
        z if (z.starts_with('+') || z.starts_with('-')) && (z.len() == 6 || z.len() == 5) => {
            let digits: String = z[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let hh: i64 = digits[..2].parse().map_err(|_| bad())?;
            let mm: i64 = digits[2..].parse().map_err(|_| bad())?;
            let sign = if z.starts_with('-') { -1 } else { 1 };
            (true, sign * (hh * 60 + mm))
        }
        _ => return Err(format!("unrecognised time zone {zone:?} in {t:?}")),
    };
    let mut ts = Timestamp::from_fields((y, mo, d), (h, mi, s.min(59), ms), zone_known);
    ts.millis -= offset_minutes * 60_000;
    Ok(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_formats() {
        let a = parse("2025-06-18 00:02:04.789").unwrap();
        assert_eq!(a.to_string(), "2025-06-18T00:02:04");
        assert_eq!(a.millis % 1000, 789);
        assert!(!a.zone_known);
        let b = parse("11/14/2025, 09:53:36 AM UTC").unwrap();
        assert_eq!(b.to_string(), "2025-11-14T09:53:36Z");
        assert_eq!(parse("11/13/2025, 10:00:17 PM UTC").unwrap().to_string(), "2025-11-13T22:00:17Z");
        assert_eq!(parse("12/01/2025, 12:05:00 AM UTC").unwrap().hour(), 0);
        assert_eq!(parse("12/01/2025, 12:05:00 PM UTC").unwrap().hour(), 12);
        assert_eq!(parse("2025-06-18T19:17:43.792Z").unwrap().to_string(), "2025-06-18T19:17:43Z");
        assert_eq!(parse("2025-06-18T19:17:43-07:00").unwrap().to_string(), "2025-06-19T02:17:43Z");
        assert_eq!(parse("6/8/2025 7:05").unwrap().to_string(), "2025-06-08T07:05:00");
    }

    #[test]
    fn fast_path_agrees_with_the_general_parser() {
        let mut n = 0;
        for (mo, d, y) in [(1, 1, 2025), (2, 29, 2024), (2, 29, 2025), (12, 31, 1999), (13, 1, 2025), (0, 5, 2025)] {
            for (h, mi, s) in [(0, 0, 0), (12, 0, 0), (1, 59, 59), (11, 60, 0), (13, 5, 5), (23, 59, 60), (24, 0, 0)] {
                for ampm in ["AM", "PM", "am", "XM"] {
                    let text = format!("{mo:02}/{d:02}/{y:04}, {h:02}:{mi:02}:{s:02} {ampm} UTC");
                    assert_eq!(parse(&text), parse_general(&text), "{text}");
                    n += usize::from(fast(text.as_bytes()).is_some());
                }
                for ms in [0, 7, 999] {
                    let text = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{ms:03}");
                    assert_eq!(parse(&text), parse_general(&text), "{text}");
                    n += usize::from(fast(text.as_bytes()).is_some());
                }
            }
        }
        // The fast path took every valid one: 3 valid dates, with 2 valid AM/PM times x 2 (AM, PM)
        // and 5 valid 24-hour times x 3 fractions.
        assert_eq!(n, 3 * (2 * 2 + 5 * 3));
    }

    #[test]
    fn days_round_trip() {
        for z in [-800_000, -1, 0, 1, 19_000, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        // The tables agree with the formula on every day they cover.
        for y in 1969..=2100 {
            for m in 1..=12 {
                for d in 1..=days_in_month(y, m) {
                    assert_eq!(day_number(y, m, d), days_from_civil(y, m, d), "{y}-{m}-{d}");
                }
            }
        }
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn bad_times_say_why() {
        assert!(parse("").unwrap_err().contains("empty"));
        assert!(parse("2025-02-30 10:00").unwrap_err().contains("impossible date"));
        assert!(parse("13/01/2025, 10:00:00 AM").unwrap_err().contains("impossible date"));
        assert!(parse("11/14/2025, 13:00:00 PM UTC").unwrap_err().contains("AM/PM"));
        assert!(parse("yesterday").unwrap_err().contains("unrecognised time"));
        assert!(parse("2025-06-18 10:00 EST").unwrap_err().contains("time zone"));
    }
}
