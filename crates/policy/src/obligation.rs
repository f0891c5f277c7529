//! Obligations: what a policy requires the hub to do when it decides. Cedar has no obligations, so
//! policies carry them as `@obligation("...")` annotations (several separated by `;`), and the
//! checkpoint refuses any it does not know (fail closed).

use std::fmt;

/// One obligation, parsed from its text form.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Obligation {
    /// `redact:FIELD`: the field is removed from released records (absent, not blank).
    Redact(String),
    /// `release_only:F1,F2`: every field except these is removed.
    ReleaseOnly(Vec<String>),
    /// `notify_subject:Nd` (calendar days) or `notify_subject:Nbd` (business days): tell the person
    /// the request was made and by whom, within that time.
    NotifySubject {
        /// How many days.
        days: u32,
        /// True for business days.
        business: bool,
    },
    /// `certify:WHAT`: the recipient's written certification must be on file (e.g. `no_immigration_use`).
    Certify(String),
    /// `record_dissemination`: record who received what, why and when (28 CFR 23.20(g), Civ. Code 1798.90.52).
    RecordDissemination,
    /// `report:BODY`: report the request to an oversight body (e.g. `or_cjc`).
    Report(String),
}

/// The kinds of obligation, by their text prefix.
pub const KINDS: &[&str] = &["redact", "release_only", "notify_subject", "certify", "record_dissemination", "report"];

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Obligation {
    /// Parses one obligation; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (kind, arg) = match text.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (text, None),
        };
        let need_name = |a: Option<&str>| match a {
            Some(a) if is_name(a) => Ok(a.to_string()),
            _ => Err(format!("obligation {text:?}: `{kind}:` needs a lowercase name after the colon")),
        };
        match kind {
            "redact" => need_name(arg).map(Obligation::Redact),
            "certify" => need_name(arg).map(Obligation::Certify),
            "report" => need_name(arg).map(Obligation::Report),
            "release_only" => {
                let fields: Vec<String> = arg.unwrap_or("").split(',').map(|f| f.trim().to_string()).collect();
                if fields.iter().all(|f| is_name(f)) {
                    Ok(Obligation::ReleaseOnly(fields))
                } else {
                    Err(format!("obligation {text:?}: `release_only:` needs a comma-separated list of field names"))
                }
            }
            "notify_subject" => {
                let arg = arg.unwrap_or("");
                let (digits, business) = match arg.strip_suffix("bd") {
                    Some(d) => (d, true),
                    None => (arg.strip_suffix('d').unwrap_or(""), false),
                };
                match digits.parse::<u32>() {
                    Ok(days) if days > 0 => Ok(Obligation::NotifySubject { days, business }),
                    _ => Err(format!("obligation {text:?}: expected `notify_subject:Nd` or `notify_subject:Nbd`")),
                }
            }
            "record_dissemination" if arg.is_none() => Ok(Obligation::RecordDissemination),
            _ => Err(format!("unknown obligation {text:?} (known kinds: {})", KINDS.join(", "))),
        }
    }

    /// Parses an `@obligation` annotation: one or more obligations separated by `;`.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, String> {
        text.split(';').filter(|s| !s.trim().is_empty()).map(Self::parse).collect()
    }

    /// The kind, as in [`KINDS`].
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Redact(_) => "redact",
            Self::ReleaseOnly(_) => "release_only",
            Self::NotifySubject { .. } => "notify_subject",
            Self::Certify(_) => "certify",
            Self::RecordDissemination => "record_dissemination",
            Self::Report(_) => "report",
        }
    }

    /// True if it removes data from what is released.
    pub fn restricts_data(&self) -> bool {
        matches!(self, Self::Redact(_) | Self::ReleaseOnly(_))
    }
}

impl fmt::Display for Obligation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redact(field) => write!(f, "redact:{field}"),
            Self::ReleaseOnly(fields) => write!(f, "release_only:{}", fields.join(",")),
            Self::NotifySubject { days, business } => {
                write!(f, "notify_subject:{days}{}", if *business { "bd" } else { "d" })
            }
            Self::Certify(what) => write!(f, "certify:{what}"),
            Self::RecordDissemination => f.write_str("record_dissemination"),
            Self::Report(body) => write!(f, "report:{body}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for text in [
            "redact:home_address",
            "release_only:immigration_status,citizenship",
            "notify_subject:3d",
            "notify_subject:3bd",
            "certify:no_immigration_use",
            "record_dissemination",
            "report:or_cjc",
        ] {
            assert_eq!(Obligation::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn rejects_unknown_and_malformed() {
        for bad in [
            "shred:all",
            "redact:",
            "redact:Home Address",
            "notify_subject:soon",
            "notify_subject:0d",
            "record_dissemination:x",
        ] {
            assert!(Obligation::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(Obligation::parse_list("redact:photo; notify_subject:3d").unwrap().len(), 2);
    }
}
