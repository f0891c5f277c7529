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

use model::entry::{
    Citation, DecisionEntry, Entry, EntryRequester, HashedSubject, NotifiedEntry, RefusedEntry, ReviewEntry,
    Supervisor, TokenHolder, Verdict,
};
use model::{ChainLink, Decision, Request};

use crate::keys::SubjectKey;
use crate::tokens::TokenRecord;

pub use model::entry::ENTRY_VERSION;

fn hashed_subject(key: &SubjectKey, request: &Request) -> HashedSubject {
    HashedSubject { kind: request.subject.kind.clone(), hmac: key.hash(&request.subject.kind, &request.subject.value) }
}

/// The ledger entry of a decision.
pub fn decision(
    key: &SubjectKey,
    request: &Request,
    decision: &Decision,
    token: &TokenRecord,
    owner: &str,
    time: u64,
) -> Entry {
    Entry::Decision(DecisionEntry {
        v: ENTRY_VERSION,
        time,
        decision_id: decision.decision_id.clone(),
        requester: EntryRequester {
            id: request.requester.id.clone(),
            agency: request.requester.agency.clone(),
            role: token.role.clone(),
        },
        token: token.id.clone(),
        on_behalf_of: request.on_behalf_of.clone(),
        source: request.source.clone(),
        owner: owner.to_string(),
        action: request.action.clone(),
        purpose: request.purpose.clone(),
        legal_basis: request.legal_basis.clone(),
        case_number: request
            .case_number
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(|c| key.hash("case_number", c)),
        justification: key.hash("justification", &request.justification),
        subject: hashed_subject(key, request),
        fields: request.fields.clone(),
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
    })
}

/// The ledger entry of a refused attempt to speak for another agency or user.
pub fn refused(key: &SubjectKey, request: &Request, token: &TokenRecord, why: &str, time: u64) -> Entry {
    Entry::Refused(RefusedEntry {
        v: ENTRY_VERSION,
        time,
        token: TokenHolder {
            id: token.id.clone(),
            agency: token.agency.clone(),
            user: token.user.clone(),
            role: token.role.clone(),
        },
        claimed: ChainLink { id: request.requester.id.clone(), agency: request.requester.agency.clone() },
        on_behalf_of: request.on_behalf_of.clone(),
        source: request.source.clone(),
        action: request.action.clone(),
        purpose: request.purpose.clone(),
        subject: hashed_subject(key, request),
        why: why.to_string(),
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
