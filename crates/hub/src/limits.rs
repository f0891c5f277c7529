//! What one caller can make the hub do: caps on every free-text field of a request, request
//! rates per token and per agency (token buckets), envelope rates per peer hub (federation), and
//! quotas of held reviews outstanding.
//!
//! The rates and quotas come from the deployment's `[limits]` table ([`model::Limits`]); over
//! one, the answer is `429 Too Many Requests`, a problem detail with `Retry-After`, and nothing
//! is decided or logged (a refused attempt costs the public ledger nothing). The field caps are
//! input validation and always apply: over one, `400` naming the field. `serve --limits off`
//! lifts rates and quotas, for benchmarks only.
//!
//! Rates are counted per replica: with `n` replicas behind a balancer a token can reach `n`
//! times its rate. Held reviews are counted per replica from the review queue (re-read from the
//! shared store every [`HELD_REFRESH_SECS`] seconds with PostgreSQL).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::http::StatusCode;
use model::{Limits, Request, Requester};

use crate::problem::Problem;
use crate::reviews::Review;

/// Longest justification (bytes).
pub const MAX_JUSTIFICATION: usize = 4096;
/// Longest identifier: requester id and role, chain ids and agencies, source, case number,
/// subject kind, field and certification names (bytes).
pub const MAX_ID: usize = 128;
/// Longest subject value (bytes).
pub const MAX_SUBJECT: usize = 256;
/// Longest legal-basis reference or issuer (bytes).
pub const MAX_REFERENCE: usize = 256;
/// Most fields a request may name.
pub const MAX_FIELDS: usize = 64;
/// Most certifications a request may carry.
pub const MAX_CERTIFICATIONS: usize = 16;
/// How often held-review counts are re-read from a shared (PostgreSQL) queue.
pub const HELD_REFRESH_SECS: u64 = 10;

/// Checks every free-text field of `request` against its cap; the 400 names the first too long.
pub fn check_caps(request: &Request) -> Result<(), Problem> {
    let too_long = |field: &str, cap: usize, len: usize| {
        Problem::bad_field(field, format!("`{field}` is {len} bytes; at most {cap} are accepted"))
    };
    let mut checks: Vec<(String, usize, usize)> = vec![
        ("requester.id".into(), MAX_ID, request.requester.id.len()),
        ("requester.agency".into(), MAX_ID, request.requester.agency.len()),
        ("requester.role".into(), MAX_ID, request.requester.role.len()),
        ("source".into(), MAX_ID, request.source.len()),
        ("justification".into(), MAX_JUSTIFICATION, request.justification.len()),
        ("case_number".into(), MAX_ID, request.case_number.as_deref().map_or(0, str::len)),
        ("legal_basis.reference".into(), MAX_REFERENCE, request.legal_basis.reference.as_deref().map_or(0, str::len)),
        ("legal_basis.issued_by".into(), MAX_REFERENCE, request.legal_basis.issued_by.as_deref().map_or(0, str::len)),
        ("subject.kind".into(), MAX_ID, request.subject.kind.len()),
        ("subject.value".into(), MAX_SUBJECT, request.subject.value.len()),
    ];
    for (i, l) in request.on_behalf_of.iter().enumerate() {
        checks.push((format!("on_behalf_of[{i}].id"), MAX_ID, l.id.len()));
        checks.push((format!("on_behalf_of[{i}].agency"), MAX_ID, l.agency.len()));
    }
    let fields = request.fields.as_deref().unwrap_or_default();
    if fields.len() > MAX_FIELDS {
        return Err(Problem::bad_field("fields", format!("at most {MAX_FIELDS} fields, found {}", fields.len())));
    }
    for (i, f) in fields.iter().enumerate() {
        checks.push((format!("fields[{i}]"), MAX_ID, f.len()));
    }
    if request.certifications.len() > MAX_CERTIFICATIONS {
        return Err(Problem::bad_field(
            "certifications",
            format!("at most {MAX_CERTIFICATIONS} certifications, found {}", request.certifications.len()),
        ));
    }
    for (i, c) in request.certifications.iter().enumerate() {
        checks.push((format!("certifications[{i}]"), MAX_ID, c.len()));
    }
    match checks.into_iter().find(|(_, cap, len)| len > cap) {
        Some((field, cap, len)) => Err(too_long(&field, cap, len)),
        None => Ok(()),
    }
}

/// A token bucket: `rate` tokens a second, at most `burst` kept.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    level: f64,
    at: Instant,
}

/// The buckets by token id, by agency id and by peer hub (its ledger origin).
#[derive(Debug, Default)]
struct Buckets {
    tokens: HashMap<String, Bucket>,
    agencies: HashMap<String, Bucket>,
    peers: HashMap<String, Bucket>,
}

/// The bucket of `key`, new (full) or refilled at `rate` a second up to `burst`.
fn refill<'m>(map: &'m mut HashMap<String, Bucket>, key: &str, rate: f64, burst: f64, now: Instant) -> &'m mut Bucket {
    if !map.contains_key(key) {
        map.insert(key.to_string(), Bucket { level: burst, at: now });
    }
    let b = map.get_mut(key).expect("inserted above if absent");
    b.level = (b.level + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
    b.at = now;
    b
}

/// The rate limits and held-review quotas of a serving hub.
#[derive(Debug)]
pub struct Limiter {
    limits: Limits,
    on: bool,
    buckets: Mutex<Buckets>,
    /// Pending reviews by `user:AGENCY/USER` and `agency:AGENCY`.
    held: Mutex<HashMap<String, u32>>,
}

/// A 429 with `Retry-After`.
fn too_many(detail: String, retry_after: u64) -> Problem {
    Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", detail).retry_after(retry_after.max(1))
}

impl Limiter {
    /// A limiter enforcing `limits`, or none at all when `on` is false (`serve --limits off`).
    pub fn new(limits: Limits, on: bool) -> Self {
        Self { limits, on, buckets: Mutex::default(), held: Mutex::new(HashMap::new()) }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Takes one request from the buckets of token `token` and of `agency`; a 429 when either is
    /// empty (then neither is charged).
    pub fn admit(&self, token: &str, agency: &str) -> Result<(), Problem> {
        if !self.on {
            return Ok(());
        }
        let l = &self.limits;
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else { return Ok(()) };
        let Buckets { tokens, agencies, .. } = &mut *buckets;
        let t = refill(tokens, token, l.token_per_second, l.token_burst, now);
        let a = refill(agencies, agency, l.agency_per_second, l.agency_burst, now);
        // Who is named only when refused: an admitted request allocates nothing here.
        let checks = [
            (t.level, l.token_per_second, l.token_burst, None),
            (a.level, l.agency_per_second, l.agency_burst, Some(agency)),
        ];
        for (level, rate, burst, of_agency) in checks {
            if level < 1.0 {
                let who = match of_agency {
                    None => "this token".to_string(),
                    Some(a) => format!("agency {a:?}, all its tokens together,"),
                };
                return Err(too_many(
                    format!("{who} may send {rate} requests a second (burst {burst}); retry later"),
                    ((1.0 - level) / rate).ceil() as u64,
                ));
            }
        }
        t.level -= 1.0;
        a.level -= 1.0;
        Ok(())
    }

    /// Takes one envelope from the bucket of the peer hub `peer` (its ledger origin); a 429 when
    /// it is empty. A peer sends its members' requests together, so its rate is its own
    /// (`peer_per_second`, `peer_burst`), not an agency's.
    pub fn admit_peer(&self, peer: &str) -> Result<(), Problem> {
        if !self.on {
            return Ok(());
        }
        let l = &self.limits;
        let Ok(mut buckets) = self.buckets.lock() else { return Ok(()) };
        let b = refill(&mut buckets.peers, peer, l.peer_per_second, l.peer_burst, Instant::now());
        if b.level < 1.0 {
            return Err(too_many(
                format!(
                    "peer hub {peer:?} may send {} envelopes a second (burst {}); retry later",
                    l.peer_per_second, l.peer_burst
                ),
                ((1.0 - b.level) / l.peer_per_second).ceil() as u64,
            ));
        }
        b.level -= 1.0;
        Ok(())
    }

    /// Refuses a new held review for `requester` when its user or agency has its quota of
    /// pending reviews outstanding.
    pub fn check_held(&self, requester: &Requester) -> Result<(), Problem> {
        if !self.on {
            return Ok(());
        }
        let Ok(held) = self.held.lock() else { return Ok(()) };
        let [user, agency] = keys(requester);
        let l = &self.limits;
        let checks = [
            (held.get(&user), l.token_held_reviews, format!("user {:?}", requester.id)),
            (held.get(&agency), l.agency_held_reviews, format!("agency {:?}", requester.agency)),
        ];
        for (count, most, who) in checks {
            let n = count.copied().unwrap_or(0);
            if n >= most {
                return Err(too_many(
                    format!("{who} has {n} requests waiting for review, the most allowed ({most}); wait for verdicts"),
                    60,
                ));
            }
        }
        Ok(())
    }

    /// Counts a review held for `requester` (`+1`) or decided (`-1`).
    pub fn held_changed(&self, requester: &Requester, held: bool) {
        let Ok(mut map) = self.held.lock() else { return };
        for key in keys(requester) {
            let n = map.entry(key.clone()).or_insert(0);
            *n = if held { n.saturating_add(1) } else { n.saturating_sub(1) };
            if *n == 0 {
                map.remove(&key);
            }
        }
    }

    /// Replaces the held-review counts with those of `pending` (the queue's pending reviews).
    pub fn recount_held(&self, pending: &[Review]) {
        let mut map = HashMap::new();
        for r in pending {
            for key in keys(&r.request.requester) {
                *map.entry(key).or_insert(0u32) += 1;
            }
        }
        if let Ok(mut held) = self.held.lock() {
            *held = map;
        }
    }
}

/// The held-review counters a requester's reviews count in: its user's and its agency's.
fn keys(requester: &Requester) -> [String; 2] {
    [format!("user:{}/{}", requester.agency, requester.id), format!("agency:{}", requester.agency)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request::from_json_str(
            r#"{"requester": {"id": "u", "agency": "lapd"}, "source": "s", "action": "lookup",
                "purpose": "other", "legal_basis": {"kind": "none"}, "subject": {"kind": "name", "value": "x"}}"#,
        )
        .unwrap()
    }

    #[test]
    fn caps_name_the_field() {
        let mut r = request();
        assert!(check_caps(&r).is_ok());
        r.legal_basis.reference = Some("x".repeat(MAX_REFERENCE + 1));
        assert_eq!(check_caps(&r).unwrap_err().extra["field"], "legal_basis.reference");
        r.legal_basis.reference = None;
        r.certifications = vec!["c".into(); MAX_CERTIFICATIONS + 1];
        assert_eq!(check_caps(&r).unwrap_err().extra["field"], "certifications");
    }

    #[test]
    fn buckets_refill_and_refuse_with_retry_after() {
        let limits = Limits { token_per_second: 1.0, token_burst: 3.0, ..Limits::default() };
        let l = Limiter::new(limits.clone(), true);
        for _ in 0..3 {
            l.admit("t1", "lapd").unwrap();
        }
        let p = l.admit("t1", "lapd").unwrap_err();
        assert_eq!((p.status.as_u16(), &p.extra["retry_after"]), (429, &serde_json::json!(1)));
        // Another token of the agency still has its own bucket.
        l.admit("t2", "lapd").unwrap();
        // Off: nothing is counted.
        let off = Limiter::new(limits, false);
        for _ in 0..100 {
            off.admit("t1", "lapd").unwrap();
        }
    }

    #[test]
    fn held_quota() {
        let limits = Limits { token_held_reviews: 2, ..Limits::default() };
        let l = Limiter::new(limits, true);
        let r = request();
        let r = &r.requester;
        l.held_changed(r, true);
        l.check_held(r).unwrap();
        l.held_changed(r, true);
        assert_eq!(l.check_held(r).unwrap_err().status.as_u16(), 429);
        l.held_changed(r, false);
        l.check_held(r).unwrap();
    }

    #[test]
    fn each_peer_has_its_own_bucket_apart_from_agencies() {
        let limits = Limits { peer_per_second: 2.0, peer_burst: 2.0, agency_burst: 1.0, ..Limits::default() };
        let l = Limiter::new(limits.clone(), true);
        l.admit_peer("tx.example/ledger").unwrap();
        l.admit_peer("tx.example/ledger").unwrap();
        let p = l.admit_peer("tx.example/ledger").unwrap_err();
        assert_eq!((p.status.as_u16(), &p.extra["retry_after"]), (429, &serde_json::json!(1)));
        assert!(p.detail.contains("tx.example/ledger"), "{}", p.detail);
        // Another peer, and the agencies, are not charged by it.
        l.admit_peer("co.example/ledger").unwrap();
        l.admit("t1", "tx.example/ledger").unwrap();
        // After half a second at 2 a second, one more envelope.
        std::thread::sleep(std::time::Duration::from_millis(550));
        l.admit_peer("tx.example/ledger").unwrap();
        assert!(l.admit_peer("tx.example/ledger").is_err());
        let off = Limiter::new(limits, false);
        for _ in 0..100 {
            off.admit_peer("tx.example/ledger").unwrap();
        }
    }
}
