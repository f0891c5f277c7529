//! The answer to a request.

use serde::{Deserialize, Serialize};

/// What the checkpoint decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Data may be released, with the obligations applied.
    Permit,
    /// Nothing is released.
    Deny,
    /// Held until a supervisor of the data-owning agency approves or denies it.
    Review,
}

impl Outcome {
    /// "permit", "deny" or "review".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Permit => "permit",
            Self::Deny => "deny",
            Self::Review => "review",
        }
    }
}

/// One reason for a decision: a policy of the law library and the law it enforces, or, for a
/// fail-closed denial, the checkpoint itself (`policy` starts with `fusionguard:`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reason {
    /// The policy id (its `@id`).
    pub policy: String,
    /// The exact section it enforces.
    pub citation: String,
    /// One plain sentence.
    pub summary: String,
}

/// A decision with everything needed to act on it and to audit it later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Unique id of this decision.
    pub decision_id: String,
    /// Permit, deny or review.
    pub decision: Outcome,
    /// The policies that determined it, with their citations.
    pub reasons: Vec<Reason>,
    /// What the hub must do before and after releasing data (`redact:home_address`, ...).
    pub obligations: Vec<String>,
    /// SHA-256 (hex) of the policy library and schema that decided.
    pub policy_digest: String,
    /// Immigration-enforcement indicators the justification classifier found (evidence).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub justification_signals: Vec<String>,
}

impl Decision {
    /// True if this decision releases data.
    pub fn is_permit(&self) -> bool {
        self.decision == Outcome::Permit
    }

    /// True if some reason cites `policy`.
    pub fn cites_policy(&self, policy: &str) -> bool {
        self.reasons.iter().any(|r| r.policy == policy)
    }
}
