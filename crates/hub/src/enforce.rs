//! Carrying out obligations on released records: `redact:FIELD` removes the field (absent, not
//! blank), `release_only:A,B` keeps only those fields, and the request's own `fields` list narrows
//! further. Obligations that do not touch the data (notices, certifications, dissemination
//! records, reports) are carried out by [`crate::duties`]. An obligation that does not parse stops
//! the release (fail closed).

use policy::Obligation;

use crate::sources::Record;
use crate::HubError;

/// Applies `obligations` and the wanted `fields` to `records`.
pub fn apply(
    obligations: &[String],
    fields: Option<&[String]>,
    mut records: Vec<Record>,
) -> Result<Vec<Record>, HubError> {
    let parsed: Vec<Obligation> = obligations
        .iter()
        .map(|o| Obligation::parse(o).map_err(|e| HubError::Policy(format!("cannot carry out obligation: {e}"))))
        .collect::<Result<_, _>>()?;
    for record in &mut records {
        for o in &parsed {
            match o {
                Obligation::Redact(field) => {
                    record.remove(field);
                }
                Obligation::ReleaseOnly(keep) => record.retain(|k, _| keep.iter().any(|f| f == k)),
                _ => {}
            }
        }
        if let Some(wanted) = fields {
            record.retain(|k, _| wanted.iter().any(|f| f == k));
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec() -> Record {
        json!({"name": "J. Doe", "home_address": "1 Main", "photo": "p", "immigration_status": "unknown"})
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn redact_removes_the_field() {
        let out = apply(&["redact:home_address".into(), "notify_subject:3d".into()], None, vec![rec()]).unwrap();
        assert!(!out[0].contains_key("home_address"));
        assert_eq!(out[0].len(), 3);
    }

    #[test]
    fn release_only_and_wanted_fields_narrow() {
        let out = apply(&["release_only:immigration_status,name".into()], None, vec![rec()]).unwrap();
        let mut keys: Vec<_> = out[0].keys().collect();
        keys.sort();
        assert_eq!(keys, ["immigration_status", "name"]);
        let out = apply(&[], Some(&["photo".to_string()]), vec![rec()]).unwrap();
        assert_eq!(out[0].keys().collect::<Vec<_>>(), ["photo"]);
    }

    #[test]
    fn unknown_obligation_releases_nothing() {
        assert!(apply(&["shred:all".into()], None, vec![rec()]).is_err());
    }
}
