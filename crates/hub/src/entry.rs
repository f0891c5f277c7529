//! What the hub writes to the ledger: one JSON object per event, with subjects and free text as
//! keyed hashes (HMAC-SHA256, see [`crate::keys::SubjectKey`]) and never any record released.
//!
//! Kinds (`type`):
//! * `decision`: who asked, for whom, which source, action, purpose, legal basis, the decision,
//!   its citations and obligations, and the policy digest.
//! * `refused`: a token tried to speak for someone else (403); who held the token, whom it claimed.
//! * `review`: a supervisor approved or denied a held request.
//! * `notified`: the owning agency told the person about a request (`notify_subject`).

use model::{Decision, Request};
use serde_json::{json, Value};

use crate::keys::SubjectKey;
use crate::tokens::TokenRecord;

/// Version of the entry format.
pub const ENTRY_VERSION: u32 = 1;

/// The ledger entry of a decision.
pub fn decision(
    key: &SubjectKey,
    request: &Request,
    decision: &Decision,
    token: &TokenRecord,
    owner: &str,
    time: u64,
) -> Value {
    json!({
        "v": ENTRY_VERSION,
        "type": "decision",
        "time": time,
        "decision_id": decision.decision_id,
        "requester": {"id": request.requester.id, "agency": request.requester.agency, "role": token.role},
        "token": token.id,
        "on_behalf_of": request.on_behalf_of.iter().map(|l| json!({"id": l.id, "agency": l.agency})).collect::<Vec<_>>(),
        "source": request.source,
        "owner": owner,
        "action": request.action,
        "purpose": request.purpose,
        "legal_basis": {
            "kind": request.legal_basis.kind,
            "reference": request.legal_basis.reference,
            "issued_by": request.legal_basis.issued_by,
        },
        "case_number": request.case_number.as_deref().filter(|c| !c.trim().is_empty()).map(|c| key.hash("case_number", c)),
        "justification": key.hash("justification", &request.justification),
        "subject": {"kind": request.subject.kind, "hmac": key.hash(&request.subject.kind, &request.subject.value)},
        "fields": request.fields,
        "decision": decision.decision.as_str(),
        "citations": decision.reasons.iter().map(|r| json!({"policy": r.policy, "citation": r.citation})).collect::<Vec<_>>(),
        "obligations": decision.obligations,
        "certifications": request.certifications,
        "justification_signals": decision.justification_signals,
        "policy_digest": decision.policy_digest,
    })
}

/// The ledger entry of a refused attempt to speak for another agency or user.
pub fn refused(key: &SubjectKey, request: &Request, token: &TokenRecord, why: &str, time: u64) -> Value {
    json!({
        "v": ENTRY_VERSION,
        "type": "refused",
        "time": time,
        "token": {"id": token.id, "agency": token.agency, "user": token.user, "role": token.role},
        "claimed": {"id": request.requester.id, "agency": request.requester.agency},
        "on_behalf_of": request.on_behalf_of.iter().map(|l| json!({"id": l.id, "agency": l.agency})).collect::<Vec<_>>(),
        "source": request.source,
        "action": request.action,
        "purpose": request.purpose,
        "subject": {"kind": request.subject.kind, "hmac": key.hash(&request.subject.kind, &request.subject.value)},
        "why": why,
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
) -> Value {
    json!({
        "v": ENTRY_VERSION,
        "type": "review",
        "time": time,
        "decision_id": review_id,
        "decision_index": decision_index,
        "verdict": if approve { "approve" } else { "deny" },
        "supervisor": {"id": supervisor.user, "agency": supervisor.agency, "token": supervisor.id},
        "reason": key.hash("review_reason", reason),
        "obligations": obligations,
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
) -> Value {
    json!({
        "v": ENTRY_VERSION,
        "type": "notified",
        "time": time,
        "decision_id": notice_id,
        "decision_index": decision_index,
        "supervisor": {"id": supervisor.user, "agency": supervisor.agency, "token": supervisor.id},
        "method": key.hash("notice_method", method),
    })
}
