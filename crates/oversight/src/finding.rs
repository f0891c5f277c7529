//! Findings: what a detector found, on which record, with the evidence and the rule it applies.

use serde::Serialize;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look in aggregate (habits, wording).
    Low,
    /// Needs an explanation from the agency.
    Medium,
    /// Shows, on its face, what the law forbids or a circumvention pattern.
    High,
}

impl Severity {
    /// "low", "medium" or "high".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// What kind of finding it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A reason, justification or email shows an immigration-enforcement purpose.
    ImmigrationPurpose,
    /// The originator (searching agency, email sender or copy) is federal or immigration enforcement.
    FederalOriginator,
    /// A reason too vague to audit ("investigation") with no case number or identifier.
    VagueReason,
    /// A search across many networks or cameras.
    WideSearch,
    /// A search at an hour the officer almost never searches.
    OffHours,
    /// Many searches by one officer within a few minutes.
    Burst,
    /// Protected activity (protest, religion, abortion) given as the purpose.
    ProtectedActivity,
    /// ALPR data shared with a recipient the law forbids (out of state, federal).
    ForbiddenSharing,
    /// Data reaching a recipient through a vendor or a non-agency account.
    VendorPassThrough,
    /// A name the agency directory could not resolve (reported, never guessed).
    UnresolvedAgency,
    /// A sender that is not an email address (e.g. an Exchange X.500 address).
    NonEmailSender,
    /// Criminal intelligence information held past its retention limit without review.
    RetentionExceeded,
}

impl Kind {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ImmigrationPurpose => "immigration_purpose",
            Self::FederalOriginator => "federal_originator",
            Self::VagueReason => "vague_reason",
            Self::WideSearch => "wide_search",
            Self::OffHours => "off_hours",
            Self::Burst => "burst",
            Self::ProtectedActivity => "protected_activity",
            Self::ForbiddenSharing => "forbidden_sharing",
            Self::VendorPassThrough => "vendor_pass_through",
            Self::UnresolvedAgency => "unresolved_agency",
            Self::NonEmailSender => "non_email_sender",
            Self::RetentionExceeded => "retention_exceeded",
        }
    }
}

/// The record a finding rests on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Subject {
    /// A row of a search audit, by its search ID.
    Search {
        /// The search's ID as the export gives it.
        record: String,
    },
    /// A message of an email production.
    Email {
        /// The Message-ID header (without its angle brackets), or a stable id where the export
        /// has none (`row-N` in an Outlook CSV export, `FILE:LINE` in an mbox or `.eml` file).
        message_id: String,
        /// The `.eml` file, when the production is a folder of them.
        #[serde(skip_serializing_if = "Option::is_none")]
        file: Option<String>,
    },
    /// A record of a criminal intelligence system, by its id.
    Record {
        /// The record's id as the export gives it.
        record: String,
    },
    /// A row of a sharing list.
    Sharing {
        /// The agency whose data is shared (as written).
        agency: String,
        /// The agency given access (as written).
        counterparty: String,
    },
}

impl Subject {
    /// A one-line label for tables.
    pub fn label(&self) -> String {
        match self {
            Subject::Search { record } | Subject::Record { record } => record.clone(),
            Subject::Email { message_id, .. } => message_id.clone(),
            Subject::Sharing { agency, counterparty } => format!("{agency} -> {counterparty}"),
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What was found.
    pub kind: Kind,
    /// How serious it is.
    pub severity: Severity,
    /// The record it rests on.
    #[serde(flatten)]
    pub subject: Subject,
    /// The 1-based line of the source file where the record starts.
    pub line: u64,
    /// What in the record shows it (quoted text, counts).
    pub evidence: String,
    /// The detector rule that fired (stable id, e.g. `search.vague_reason`).
    pub rule: &'static str,
    /// The law, regulation or published standard the rule applies, when there is one.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub citation: &'static str,
}
