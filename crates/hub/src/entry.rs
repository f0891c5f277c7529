//! What the hub writes to the ledger: one [`model::entry::Entry`] per event, with subjects and
//! free text as keyed hashes (HMAC-SHA256, see [`crate::keys::SubjectKey`]) and never any record
//! released. The types live in `model` so that oversight tools read exactly what the hub writes.
//!
//! Kinds (`type`):
//! * `decision`: who asked, for whom, which source, action, purpose, legal basis, the decision,
//!   its citations and obligations, and the policy digest.
//! * `refused`: a token tried to speak for someone else (403); who held the token, whom it claimed.
//! * `review`: a supervisor approved or denied a held request.
//! * `notified`: the owning agency told the person about a request (`notify_subject`).
//! * `release`: the requester fetched an approved review's data.
//!
//! Nothing a requester types reaches the public ledger in clear: every string is an id of the
//! deployment (agency, source, a source's field), a word of a closed vocabulary (action, purpose,
//! legal-basis kind, certification, obligation, citation), the id of the token used (whose user
//! and agency the operator issued), or else a keyed hash written `hmac:<hex>` (subjects,
//! justifications, case numbers, a legal basis's reference and issuer, the people named in an
//! `on_behalf_of` chain or claimed in a refused attempt, an unknown agency, source or field).

use model::entry::{
    Citation, DecisionEntry, Entry, EntryRequester, HashedSubject, NotifiedEntry, RefusedEntry, ReleaseEntry,
    ReviewEntry, Supervisor, TokenHolder, Verdict, HMAC_PREFIX,
};
use model::{ChainLink, Decision, Deployment, LegalBasis, Request};

use crate::keys::SubjectKey;
use crate::tokens::TokenRecord;

pub use model::entry::ENTRY_VERSION;

fn hashed_subject(key: &SubjectKey, request: &Request) -> HashedSubject {
    // The kind is a closed vocabulary (checked when the request was parsed).
    HashedSubject { kind: request.subject.kind.clone(), hmac: key.hash(&request.subject.kind, &request.subject.value) }
}

/// Free text as it may appear in the ledger: `hmac:` and its keyed hash in `domain`.
pub fn hashed(key: &SubjectKey, domain: &str, value: &str) -> String {
    format!("{HMAC_PREFIX}{}", key.hash(domain, value))
}

/// `value` if the deployment knows it, else its keyed hash.
fn known_or_hashed(key: &SubjectKey, domain: &str, value: &str, known: bool) -> String {
    if known {
        value.to_string()
    } else {
        hashed(key, domain, value)
    }
}

/// An agency id as the ledger holds it.
fn agency(key: &SubjectKey, deployment: &Deployment, id: &str) -> String {
    known_or_hashed(key, "agency", id, deployment.agency(id).is_some())
}

/// A source id as the ledger holds it.
fn source(key: &SubjectKey, deployment: &Deployment, id: &str) -> String {
    known_or_hashed(key, "source", id, deployment.source(id).is_some())
}

/// A chain as the ledger holds it: people hashed, agencies the deployment knows in clear.
fn chain(key: &SubjectKey, deployment: &Deployment, links: &[ChainLink]) -> Vec<ChainLink> {
    links
        .iter()
        .map(|l| ChainLink { id: hashed(key, "person", &l.id), agency: agency(key, deployment, &l.agency) })
        .collect()
}

/// The ledger entry of a decision.
pub fn decision(
    key: &SubjectKey,
    deployment: &Deployment,
    request: &Request,
    decision: &Decision,
    token: &TokenRecord,
    owner: &str,
    time: u64,
) -> Entry {
    Entry::Decision(decision_entry(key, deployment, request, decision, token, owner, time))
}

/// The fields of a decision's entry: a `decision` entry's, or, with its `federation` member set,
/// an `outbound` or `inbound` entry's.
pub fn decision_entry(
    key: &SubjectKey,
    deployment: &Deployment,
    request: &Request,
    decision: &Decision,
    token: &TokenRecord,
    owner: &str,
    time: u64,
) -> DecisionEntry {
    DecisionEntry {
        v: ENTRY_VERSION,
        time,
        decision_id: decision.decision_id.clone(),
        requester: EntryRequester {
            id: request.requester.id.clone(),
            agency: request.requester.agency.clone(),
            role: token.role.clone(),
        },
        token: token.id.clone(),
        on_behalf_of: chain(key, deployment, &request.on_behalf_of),
        source: source(key, deployment, &request.source),
        owner: owner.to_string(),
        action: request.action.clone(),
        purpose: request.purpose.clone(),
        legal_basis: LegalBasis {
            kind: request.legal_basis.kind.clone(),
            reference: request.legal_basis.reference.as_deref().map(|r| hashed(key, "legal_basis.reference", r)),
            issued_by: request.legal_basis.issued_by.as_deref().map(|r| hashed(key, "legal_basis.issued_by", r)),
        },
        case_number: request
            .case_number
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(|c| key.hash("case_number", c)),
        justification: key.hash("justification", &request.justification),
        subject: hashed_subject(key, request),
        fields: request.fields.as_ref().map(|fields| {
            let known = deployment.source(&request.source).map(|s| s.fields.as_slice()).unwrap_or_default();
            fields.iter().map(|f| known_or_hashed(key, "field", f, known.contains(f))).collect()
        }),
        decision: decision.decision,
        citations: decision
            .reasons
            .iter()
            .map(|r| Citation { policy: r.policy.clone(), citation: r.citation.clone() })
            .collect(),
        obligations: decision.obligations.clone(),
        certifications: request.certifications.clone(),
        justification_signals: decision.justification_signals.clone(),
        policy_digest: decision.policy_digest.clone(),
        federation: None,
    }
}

/// Why a refused attempt was refused, as its ledger entry says: the token's user or agency is
/// not the requester the request names.
pub const REFUSED_NOT_REQUESTER: &str = "the token is not the requester's";

/// The ledger entry of a refused attempt to speak for another agency or user (the claimed user,
/// and the claimed agency unless the deployment knows it, as keyed hashes).
pub fn refused(key: &SubjectKey, deployment: &Deployment, request: &Request, token: &TokenRecord, time: u64) -> Entry {
    Entry::Refused(RefusedEntry {
        v: ENTRY_VERSION,
        time,
        token: TokenHolder {
            id: token.id.clone(),
            agency: token.agency.clone(),
            user: token.user.clone(),
            role: token.role.clone(),
        },
        claimed: ChainLink {
            id: hashed(key, "person", &request.requester.id),
            agency: agency(key, deployment, &request.requester.agency),
        },
        on_behalf_of: chain(key, deployment, &request.on_behalf_of),
        source: source(key, deployment, &request.source),
        action: request.action.clone(),
        purpose: request.purpose.clone(),
        subject: hashed_subject(key, request),
        why: REFUSED_NOT_REQUESTER.to_string(),
    })
}

/// The ledger entry of a supervisor's verdict on a held request.
#[allow(clippy::too_many_arguments)]
pub fn review(
    key: &SubjectKey,
    review_id: &str,
    decision_index: u64,
    approve: bool,
    supervisor: &TokenRecord,
    reason: &str,
    obligations: &[String],
    time: u64,
) -> Entry {
    Entry::Review(ReviewEntry {
        v: ENTRY_VERSION,
        time,
        decision_id: review_id.to_string(),
        decision_index,
        verdict: if approve { Verdict::Approve } else { Verdict::Deny },
        supervisor: Supervisor {
            id: supervisor.user.clone(),
            agency: supervisor.agency.clone(),
            token: supervisor.id.clone(),
        },
        reason: key.hash("review_reason", reason),
        obligations: obligations.to_vec(),
    })
}

/// The ledger entry of a notice sent to the person a request was about.
pub fn notified(
    key: &SubjectKey,
    notice_id: &str,
    decision_index: u64,
    supervisor: &TokenRecord,
    method: &str,
    time: u64,
) -> Entry {
    Entry::Notified(NotifiedEntry {
        v: ENTRY_VERSION,
        time,
        decision_id: notice_id.to_string(),
        decision_index,
        supervisor: Supervisor {
            id: supervisor.user.clone(),
            agency: supervisor.agency.clone(),
            token: supervisor.id.clone(),
        },
        method: key.hash("notice_method", method),
    })
}

/// The ledger entry of a fetch of an approved review's data by its requester.
pub fn release(review_id: &str, decision_index: u64, verdict_index: u64, requester: &TokenRecord, time: u64) -> Entry {
    Entry::Release(ReleaseEntry {
        v: ENTRY_VERSION,
        time,
        decision_id: review_id.to_string(),
        decision_index,
        verdict_index,
        requester: ChainLink { id: requester.user.clone(), agency: requester.agency.clone() },
        token: requester.id.clone(),
    })
}
