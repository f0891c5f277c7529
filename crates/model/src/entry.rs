//! Ledger entries: what the hub writes to its ledger, one JSON object per event, and what oversight
//! tools read back. One definition serves both sides, so a field the hub adds is a field every
//! reader knows (and an entry with a field nobody defined is malformed).
//!
//! Subjects, justifications, case numbers and reviewers' reasons appear only as keyed hashes
//! (HMAC-SHA256, hex, made by the hub with a key it never publishes); no released record is ever
//! an entry.
//!
//! Kinds (the `type` member):
//! * `decision` ([`DecisionEntry`]): who asked, for whom, which source, action, purpose, legal
//!   basis, the decision, its citations and obligations, and the policy digest.
//! * `refused` ([`RefusedEntry`]): a token tried to speak for someone else (403).
//! * `review` ([`ReviewEntry`]): a supervisor approved or denied a held request.
//! * `notified` ([`NotifiedEntry`]): the owning agency told the person a request was about
//!   (the `notify_subject` obligation).
//! * `release` ([`ReleaseEntry`]): the requester fetched the data of an approved review; every
//!   such fetch is logged before the data leaves.
//! * `outbound` ([`DecisionEntry`] with [`FederationInfo`]): this hub decided a request for a
//!   source a peer hub serves, by the law that binds its side, and sends it to that peer.
//! * `inbound` ([`DecisionEntry`] with [`FederationInfo`]): a peer hub sent a request; this hub
//!   decided it by its own law, with the originator rule over the whole chain.
//! * `peer_receipt` ([`PeerReceiptEntry`]): the peer's signed receipt for an `outbound` request,
//!   logged before anything from the peer reaches the user.
//! * `forward_failed` ([`ForwardFailedEntry`]): an `outbound` request got no valid answer from
//!   the peer; nothing was released.
//! * `peer_refused` ([`PeerRefusedEntry`]): an envelope sent to this hub was refused (unknown
//!   sender, bad signature, a shortened chain, replayed or expired).
//!
//! Free text never appears in clear: strings a requester can choose that are not ids of the
//! deployment or words of a closed vocabulary (a legal basis's reference and issuer, the ids of
//! people in an `on_behalf_of` chain or claimed in a refused attempt, an agency, source or field
//! the deployment does not know) are written as [`HMAC_PREFIX`] followed by a keyed hash.
//!
//! ```
//! use model::entry::{Entry, Verdict};
//! let line = br#"{"type":"review","v":1,"time":1700000000,"decision_id":"d-1","decision_index":4,
//!   "verdict":"approve","supervisor":{"id":"sup-1","agency":"lapd","token":"00ff"},
//!   "reason":"9f86","obligations":["redact:home_address"]}"#;
//! let Entry::Review(review) = Entry::from_json_slice(line).unwrap() else { panic!() };
//! assert_eq!((review.decision_index, review.verdict), (4, Verdict::Approve));
//! let err = Entry::from_json_slice(br#"{"type":"memo","v":1}"#).unwrap_err();
//! assert!(err.to_string().starts_with("unknown entry type \"memo\" (known: decision, refused,"));
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ChainLink, LegalBasis, Outcome};

/// Version of the entry format (the `v` member).
pub const ENTRY_VERSION: u32 = 1;

/// The entry kinds, as their `type` member spells them.
pub const KINDS: &[&str] = &[
    "decision",
    "refused",
    "review",
    "notified",
    "release",
    "outbound",
    "inbound",
    "peer_receipt",
    "forward_failed",
    "peer_refused",
];

/// Why a forwarded request failed ([`ForwardFailedEntry::why`]), a closed vocabulary.
pub const FORWARD_FAILURES: &[&str] = &["unreachable", "refused", "bad_receipt", "unverified_receipt"];

/// Why an envelope was refused ([`PeerRefusedEntry::why`]), a closed vocabulary.
pub const PEER_REFUSALS: &[&str] = &[
    "malformed",
    "unknown_peer",
    "not_the_sender",
    "bad_signature",
    "broken_chain",
    "not_a_member",
    "expired",
    "replayed",
];

/// How a string field holds a keyed hash instead of free text: `hmac:` and 64 hex digits.
pub const HMAC_PREFIX: &str = "hmac:";

/// One ledger entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// Most entries are decisions, the largest variant: boxing it would cost every one an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Entry {
    /// A decision on a request.
    Decision(DecisionEntry),
    /// A refused attempt to speak for another user or agency.
    Refused(RefusedEntry),
    /// A supervisor's verdict on a held request.
    Review(ReviewEntry),
    /// A notice to the person a request was about.
    Notified(NotifiedEntry),
    /// A fetch of an approved review's data.
    Release(ReleaseEntry),
    /// A decision on a request this hub sends to a peer hub.
    Outbound(DecisionEntry),
    /// A decision on a request a peer hub sent.
    Inbound(DecisionEntry),
    /// A peer's receipt for an outbound request.
    PeerReceipt(PeerReceiptEntry),
    /// An outbound request that got no valid answer.
    ForwardFailed(ForwardFailedEntry),
    /// A refused envelope.
    PeerRefused(PeerRefusedEntry),
}

/// The requester as a decision entry records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRequester {
    /// The user's id within their agency.
    pub id: String,
    /// The agency's id.
    pub agency: String,
    /// The role of the token used (not the role the request claimed).
    pub role: String,
}

/// A subject as the ledger holds it: its kind and a keyed hash of its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashedSubject {
    /// "plate", "name", "face_image", ...
    pub kind: String,
    /// HMAC-SHA256 (hex) of the value, keyed by the hub's subject key.
    pub hmac: String,
}

/// A reason of a decision, without its summary (the library holds the summary).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    /// The policy id.
    pub policy: String,
    /// The section it enforces.
    pub citation: String,
}

/// The `decision` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionEntry {
    /// Entry format version ([`ENTRY_VERSION`]).
    pub v: u32,
    /// When the hub decided (Unix seconds, UTC).
    pub time: u64,
    /// The decision's id (also the review's id when held).
    pub decision_id: String,
    /// Who asked.
    pub requester: EntryRequester,
    /// The id of the bearer token used.
    pub token: String,
    /// The originator chain, originator first.
    pub on_behalf_of: Vec<ChainLink>,
    /// The source asked.
    pub source: String,
    /// The agency that owns the source.
    pub owner: String,
    /// One of [`crate::vocab::ACTIONS`].
    pub action: String,
    /// One of [`crate::vocab::PURPOSES`].
    pub purpose: String,
    /// The legal authority relied on.
    pub legal_basis: LegalBasis,
    /// Keyed hash of the case number, if one was given.
    pub case_number: Option<String>,
    /// Keyed hash of the justification.
    pub justification: String,
    /// Whom the request is about (hashed).
    pub subject: HashedSubject,
    /// The fields asked for (absent: all).
    pub fields: Option<Vec<String>>,
    /// Permit, deny or review.
    pub decision: Outcome,
    /// The policies that determined it.
    pub citations: Vec<Citation>,
    /// The obligations attached.
    pub obligations: Vec<String>,
    /// The certifications the requester made (see the `certify` obligation).
    #[serde(default)]
    pub certifications: Vec<String>,
    /// Immigration-enforcement indicators found in the justification.
    pub justification_signals: Vec<String>,
    /// SHA-256 (hex) of the policy library that decided.
    pub policy_digest: String,
    /// Present on `outbound` and `inbound` entries only: the peer and the envelope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federation: Option<FederationInfo>,
}

/// What an `outbound` or `inbound` entry says about the hop between hubs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationInfo {
    /// The peer hub's ledger origin: where an outbound request goes, or whence an inbound one came.
    pub peer: String,
    /// The envelope's digest: SHA-256 (hex) of its request, nonce and validity, the part every
    /// hub on the way signs; the sender's `outbound` and the receiver's `inbound` entry carry the
    /// same.
    pub envelope: String,
    /// The envelope's nonce (hex).
    pub nonce: String,
    /// The hubs the request passed through before this one, by ledger origin, the one whose
    /// member asked first.
    pub hops: Vec<String>,
    /// On an `inbound` entry: the sender's ledger index of its `outbound` entry (its receipt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_index: Option<u64>,
}

/// The `peer_receipt` entry: the peer's receipt for an `outbound` request, verified.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerReceiptEntry {
    /// Entry format version ([`ENTRY_VERSION`]).
    pub v: u32,
    /// When the receipt was logged (Unix seconds, UTC).
    pub time: u64,
    /// The outbound decision's id.
    pub decision_id: String,
    /// The ledger index of the `outbound` entry.
    pub decision_index: u64,
    /// The peer's ledger origin.
    pub peer: String,
    /// The peer's ledger index of its `inbound` entry.
    pub peer_index: u64,
    /// RFC 9162 leaf hash (hex) of that entry.
    pub peer_leaf: String,
    /// The peer's decision.
    pub peer_decision: Outcome,
}

/// The `forward_failed` entry: an `outbound` request got no valid answer; nothing was released.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardFailedEntry {
    /// Entry format version ([`ENTRY_VERSION`]).
    pub v: u32,
    /// When (Unix seconds, UTC).
    pub time: u64,
    /// The outbound decision's id.
    pub decision_id: String,
    /// The ledger index of the `outbound` entry.
    pub decision_index: u64,
    /// The peer's ledger origin.
    pub peer: String,
    /// One of [`FORWARD_FAILURES`].
    pub why: String,
}

/// The `peer_refused` entry: an envelope this hub refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerRefusedEntry {
    /// Entry format version ([`ENTRY_VERSION`]).
    pub v: u32,
    /// When (Unix seconds, UTC).
    pub time: u64,
    /// The sender: a peer's ledger origin, or a keyed hash of the name a sender not among the
    /// peers gave.
    pub peer: String,
    /// One of [`PEER_REFUSALS`].
    pub why: String,
    /// SHA-256 (hex) of the envelope's bytes.
    pub envelope: String,
}
/// The token of a refused attempt: who really held it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenHolder {
    /// The token's id.
    pub id: String,
    /// Its agency.
    pub agency: String,
    /// Its user.
    pub user: String,
    /// Its role.
    pub role: String,
}

/// The `refused` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefusedEntry {
    /// Entry format version ([`ENTRY_VERSION`]).
    pub v: u32,
    /// When (Unix seconds, UTC).
    pub time: u64,
    /// The token used.
    pub token: TokenHolder,
    /// Whom the request claimed to come from.
    pub claimed: ChainLink,
    /// The originator chain the request named.
    pub on_behalf_of: Vec<ChainLink>,
    /// The source asked.
    pub source: String,
    /// The action asked.
    pub action: String,
    /// The purpose stated.
    pub purpose: String,
    /// Whom the request was about (hashed).
    pub subject: HashedSubject,
    /// Why it was refused.
    pub why: String,
}

/// A supervisor's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Release, with the decision's obligations.
    Approve,
    /// Release nothing.
    Deny,
}

/// The supervisor who decided a review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Supervisor {
    /// The supervisor's user id.
    pub id: String,
    /// Their agency (the source's owner).
    pub agency: String,
    /// The id of the token used.
    pub token: String,
}

/// The `review` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewEntry {
    /// Entry format version ([`ENTRY_VERSION`]).
    pub v: u32,
    /// When the verdict was given (Unix seconds, UTC).
    pub time: u64,
    /// The held decision's id.
    pub decision_id: String,
    /// The ledger index of the held decision.
    pub decision_index: u64,
    /// Approve or deny.
    pub verdict: Verdict,
    /// Who decided.
    pub supervisor: Supervisor,
    /// Keyed hash of the supervisor's reason.
    pub reason: String,
    /// The obligations carried out on approval.
    pub obligations: Vec<String>,
}

/// The `notified` entry: the owning agency told the person a request was about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifiedEntry {
    /// Entry format version ([`ENTRY_VERSION`]).
    pub v: u32,
    /// When the notice was recorded (Unix seconds, UTC).
    pub time: u64,
    /// The notice's id.
    pub decision_id: String,
    /// The ledger index of the decision that required the notice.
    pub decision_index: u64,
    /// Who recorded it (a supervisor of the owning agency).
    pub supervisor: Supervisor,
    /// Keyed hash of how the person was notified.
    pub method: String,
}

/// The `release` entry: the requester fetched the data of an approved review (logged before the
/// data leaves, once per fetch).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseEntry {
    /// Entry format version ([`ENTRY_VERSION`]).
    pub v: u32,
    /// When the data was fetched (Unix seconds, UTC).
    pub time: u64,
    /// The held decision's id.
    pub decision_id: String,
    /// The ledger index of the held decision.
    pub decision_index: u64,
    /// The ledger index of the approving verdict.
    pub verdict_index: u64,
    /// Who fetched it (the requester of the decision).
    pub requester: ChainLink,
    /// The id of the token (or `x509:` certificate) used.
    pub token: String,
}

/// Why bytes are not a ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// Not JSON, or not an object.
    #[error("not a JSON object: {0}")]
    NotObject(String),
    /// No `type` member, or not a string.
    #[error("no string `type` member")]
    NoType,
    /// A `type` this version does not define.
    #[error("unknown entry type {0:?} (known: decision, refused, review, notified, release, outbound, inbound, peer_receipt, forward_failed, peer_refused)")]
    UnknownType(String),
    /// A `v` other than [`ENTRY_VERSION`].
    #[error("{kind} entry has format version {found}, this reader knows version {ENTRY_VERSION}")]
    Version {
        /// The entry's kind.
        kind: String,
        /// The version found (`null` when absent or not a number).
        found: String,
    },
    /// A member is missing, unknown or of the wrong type.
    #[error("{kind} entry: {message}")]
    Malformed {
        /// The entry's kind.
        kind: String,
        /// What is wrong, naming the member.
        message: String,
    },
}

impl Entry {
    /// Parses an entry; the error says what is wrong, naming the member.
    pub fn from_json_slice(bytes: &[u8]) -> Result<Self, EntryError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| EntryError::NotObject(e.to_string()))?;
        let Value::Object(mut map) = value else {
            return Err(EntryError::NotObject(format!("found {}", kind_of(&value))));
        };
        let kind = match map.remove("type") {
            Some(Value::String(s)) => s,
            _ => return Err(EntryError::NoType),
        };
        if !KINDS.contains(&kind.as_str()) {
            return Err(EntryError::UnknownType(kind));
        }
        match map.get("v") {
            Some(Value::Number(n)) if n.as_u64() == Some(u64::from(ENTRY_VERSION)) => {}
            other => {
                let found = other.map_or_else(|| "null".to_string(), Value::to_string);
                return Err(EntryError::Version { kind, found });
            }
        }
        let value = Value::Object(map);
        let malformed = |e: serde_json::Error| EntryError::Malformed { kind: kind.clone(), message: e.to_string() };
        let federated = |d: DecisionEntry, want: bool| {
            if d.federation.is_some() == want {
                Ok(d)
            } else if want {
                Err(EntryError::Malformed { kind: kind.clone(), message: "missing field `federation`".into() })
            } else {
                Err(EntryError::Malformed { kind: kind.clone(), message: "unknown field `federation`".into() })
            }
        };
        Ok(match kind.as_str() {
            "decision" => Entry::Decision(federated(serde_json::from_value(value).map_err(malformed)?, false)?),
            "outbound" => Entry::Outbound(federated(serde_json::from_value(value).map_err(malformed)?, true)?),
            "inbound" => Entry::Inbound(federated(serde_json::from_value(value).map_err(malformed)?, true)?),
            "refused" => Entry::Refused(serde_json::from_value(value).map_err(malformed)?),
            "review" => Entry::Review(serde_json::from_value(value).map_err(malformed)?),
            "release" => Entry::Release(serde_json::from_value(value).map_err(malformed)?),
            "peer_receipt" => Entry::PeerReceipt(serde_json::from_value(value).map_err(malformed)?),
            "forward_failed" => Entry::ForwardFailed(serde_json::from_value(value).map_err(malformed)?),
            "peer_refused" => Entry::PeerRefused(serde_json::from_value(value).map_err(malformed)?),
            _ => Entry::Notified(serde_json::from_value(value).map_err(malformed)?),
        })
    }

    /// The decision an entry records: a `decision`, `outbound` or `inbound` entry.
    pub fn as_decision(&self) -> Option<&DecisionEntry> {
        match self {
            Entry::Decision(d) | Entry::Outbound(d) | Entry::Inbound(d) => Some(d),
            _ => None,
        }
    }

    /// The entry as JSON bytes, as the hub appends it.
    pub fn to_json_vec(&self) -> Vec<u8> {
        // Serialising these types cannot fail: every map key is a string.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The `type` member, one of [`KINDS`].
    pub fn kind(&self) -> &'static str {
        match self {
            Entry::Decision(_) => "decision",
            Entry::Refused(_) => "refused",
            Entry::Review(_) => "review",
            Entry::Notified(_) => "notified",
            Entry::Release(_) => "release",
            Entry::Outbound(_) => "outbound",
            Entry::Inbound(_) => "inbound",
            Entry::PeerReceipt(_) => "peer_receipt",
            Entry::ForwardFailed(_) => "forward_failed",
            Entry::PeerRefused(_) => "peer_refused",
        }
    }

    /// When the event happened (Unix seconds, UTC).
    pub fn time(&self) -> u64 {
        match self {
            Entry::Refused(e) => e.time,
            Entry::Review(e) => e.time,
            Entry::Notified(e) => e.time,
            Entry::Release(e) => e.time,
            Entry::Decision(e) | Entry::Outbound(e) | Entry::Inbound(e) => e.time,
            Entry::PeerReceipt(e) => e.time,
            Entry::ForwardFailed(e) => e.time,
            Entry::PeerRefused(e) => e.time,
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review() -> Entry {
        Entry::Review(ReviewEntry {
            v: ENTRY_VERSION,
            time: 1_700_000_000,
            decision_id: "d-1".into(),
            decision_index: 3,
            verdict: Verdict::Deny,
            supervisor: Supervisor { id: "s".into(), agency: "lapd".into(), token: "t".into() },
            reason: "ab".into(),
            obligations: vec![],
        })
    }

    #[test]
    fn round_trip_and_type_tag() {
        let bytes = review().to_json_vec();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["type"], "review");
        assert_eq!(v["verdict"], "deny");
        assert_eq!(Entry::from_json_slice(&bytes).unwrap(), review());
    }

    #[test]
    fn errors_name_the_problem() {
        let mut v: Value = serde_json::from_slice(&review().to_json_vec()).unwrap();
        v["extra"] = Value::Bool(true);
        let e = Entry::from_json_slice(v.to_string().as_bytes()).unwrap_err();
        assert!(e.to_string().starts_with("review entry: unknown field `extra`"), "{e}");
        v.as_object_mut().unwrap().remove("extra");
        v.as_object_mut().unwrap().remove("decision_index");
        let e = Entry::from_json_slice(v.to_string().as_bytes()).unwrap_err();
        assert_eq!(e.to_string(), "review entry: missing field `decision_index`");
        v["v"] = Value::from(2);
        let e = Entry::from_json_slice(v.to_string().as_bytes()).unwrap_err();
        assert_eq!(e.to_string(), "review entry has format version 2, this reader knows version 1");
        assert_eq!(Entry::from_json_slice(b"[1]").unwrap_err().to_string(), "not a JSON object: found an array");
        assert_eq!(Entry::from_json_slice(b"{\"v\":1}").unwrap_err(), EntryError::NoType);
        assert!(matches!(Entry::from_json_slice(b"{\"ty"), Err(EntryError::NotObject(_))));
    }
}
