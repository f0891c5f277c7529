//! A request to share data, as agencies send it (the JSON interface of OVERVIEW.md).

use serde::{Deserialize, Serialize};

/// The person asking, and for which agency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requester {
    /// The user's id within their agency.
    pub id: String,
    /// The agency's id in the deployment.
    pub agency: String,
    /// The user's role ("analyst", "detective", "clerk", "supervisor", ...).
    #[serde(default)]
    pub role: String,
}

/// One link of an originator chain: someone the requester is acting for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainLink {
    /// The person's id.
    pub id: String,
    /// Their agency's id.
    pub agency: String,
}

/// The legal authority a request relies on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalBasis {
    /// One of [`crate::vocab::LEGAL_BASIS_KINDS`].
    pub kind: String,
    /// The document's reference (warrant number, docket).
    #[serde(default)]
    pub reference: Option<String>,
    /// Who issued it (court, judge).
    #[serde(default)]
    pub issued_by: Option<String>,
}

/// Whom or what the request is about. Only keyed hashes of it ever reach the ledger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// "plate", "name", "license_number", "face_image", ...
    pub kind: String,
    /// The identifier itself.
    pub value: String,
}

/// A request to share data from one source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Who sends the request.
    pub requester: Requester,
    /// The chain the requester acts for, originator first (empty when acting on their own).
    #[serde(default)]
    pub on_behalf_of: Vec<ChainLink>,
    /// The source id.
    pub source: String,
    /// One of [`crate::vocab::ACTIONS`].
    pub action: String,
    /// One of [`crate::vocab::PURPOSES`].
    pub purpose: String,
    /// Free-text justification, as the requester wrote it.
    #[serde(default)]
    pub justification: String,
    /// The case or incident number, if any.
    #[serde(default)]
    pub case_number: Option<String>,
    /// The legal authority relied on.
    pub legal_basis: LegalBasis,
    /// Whom the request is about.
    pub subject: Subject,
    /// The fields wanted; absent means every field of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<String>>,
    /// Certifications the requesting agency makes with this request (e.g. `no_immigration_use`),
    /// for laws that release only against one (`certify:WHAT` obligations); recorded in the ledger.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certifications: Vec<String>,
}

/// Why a request could not be parsed. Carries the line and column of malformed JSON.
#[derive(Debug, thiserror::Error)]
#[error("{message} at line {line} column {column}")]
pub struct RequestError {
    /// What is wrong (for an unknown or missing field, its name).
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Request {
    /// Parses a request from JSON; the error names what is wrong and where.
    pub fn from_json_str(text: &str) -> Result<Self, RequestError> {
        Self::from_json_slice(text.as_bytes())
    }

    /// Parses a request from JSON bytes (the form the hub receives).
    pub fn from_json_slice(bytes: &[u8]) -> Result<Self, RequestError> {
        serde_json::from_slice(bytes).map_err(|e| {
            let full = e.to_string();
            // serde_json appends " at line L column C"; keep the message without it.
            let message = match full.rfind(" at line ") {
                Some(i) => full[..i].to_string(),
                None => full,
            };
            RequestError { message, line: e.line(), column: e.column() }
        })
    }

    /// Every agency the request speaks for, originator first and the requester last: the
    /// originator rule judges the request as if each of them had asked.
    pub fn chain(&self) -> impl Iterator<Item = &str> {
        self.on_behalf_of.iter().map(|l| l.agency.as_str()).chain(std::iter::once(self.requester.agency.as_str()))
    }

    /// True when the requester acts for someone else.
    pub fn is_forwarded(&self) -> bool {
        !self.on_behalf_of.is_empty()
    }

    /// True when a case number with some non-blank text is given.
    pub fn has_case_number(&self) -> bool {
        self.case_number.as_deref().is_some_and(|c| !c.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
  "requester": {"id": "u1", "agency": "ciac", "role": "analyst"},
  "on_behalf_of": [{"id": "agent-7", "agency": "ice-ero"}],
  "source": "co-dmv-photos", "action": "biometric_search", "purpose": "other",
  "justification": "There is no case number yet", "case_number": null,
  "legal_basis": {"kind": "none"}, "subject": {"kind": "face_image", "value": "img-1"}
}"#;

    #[test]
    fn chain_puts_originator_first() {
        let r = Request::from_json_str(GOOD).unwrap();
        assert_eq!(r.chain().collect::<Vec<_>>(), ["ice-ero", "ciac"]);
        assert!(r.is_forwarded());
        assert!(!r.has_case_number());
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let err = Request::from_json_str("{\n  \"requester\": {\"id\": \"u1\",,}\n}").unwrap_err();
        assert_eq!((err.line, err.column), (2, 28), "{err}");
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let err = Request::from_json_str(&GOOD.replace("\"purpose\"", "\"porpoise\"")).unwrap_err();
        assert!(err.message.contains("porpoise"), "{err}");
        let err = Request::from_json_str(r#"{"requester": {"id": "u", "agency": "a"}}"#).unwrap_err();
        assert!(err.message.contains("missing field `source`"), "{err}");
    }

    #[test]
    fn blank_case_number_is_no_case_number() {
        let r = Request::from_json_str(&GOOD.replace("\"case_number\": null", "\"case_number\": \"  \"")).unwrap();
        assert!(!r.has_case_number());
    }
}
