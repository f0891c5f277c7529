//! The closed vocabularies a request may use. Anything outside them is refused (fail closed).

/// Purposes a request may state (SEED-WORLD.md, "Vocabulary the requests use").
pub const PURPOSES: &[&str] = &[
    "criminal_investigation",
    "civil_immigration_enforcement",
    "criminal_immigration_enforcement",
    "missing_person",
    "traffic_enforcement",
    "counterterrorism",
    "other",
];

/// Purposes that are immigration enforcement in every sanctuary statute's sense (civil, and the
/// entry/re-entry crimes of 8 U.S.C. 1325/1326 that Cal. Gov. Code 7284.4 and C.R.S. 24-74-102
/// fold into "immigration enforcement").
pub const IMMIGRATION_PURPOSES: &[&str] = &["civil_immigration_enforcement", "criminal_immigration_enforcement"];

/// Kinds of legal basis. Administrative warrants and detainers are signed by immigration officers,
/// not judges; they are kept distinct because no sanctuary law accepts them. Laws that ask for a
/// judge "appointed pursuant to Article III" (N.Y. VTL 201(12)(a), 940 CMR 37.04) tell the federal
/// kinds apart: `federal_judicial_warrant` and `federal_court_order` are signed by an Article III
/// judge, `federal_magistrate_warrant` by a United States magistrate judge (28 U.S.C. 631, not
/// Article III); `judicial_warrant` and `court_order` are any judge's or court's, state or federal.
pub const LEGAL_BASIS_KINDS: &[&str] = &[
    "none",
    "judicial_warrant",
    "federal_judicial_warrant",
    "federal_magistrate_warrant",
    "judicial_probable_cause",
    "court_order",
    "federal_court_order",
    "judicial_subpoena",
    "grand_jury_subpoena",
    "administrative_warrant",
    "detainer",
    "consent",
];

/// Kinds of subject a request may be about: what sources are looked up by (`face_image` matches
/// nothing: the hub does no biometric matching of its own).
pub const SUBJECT_KINDS: &[&str] = &["name", "plate", "license_number", "face_image"];

/// The record fields a subject of each kind is matched against: a source can be looked up by a
/// kind when it declares one of these fields (`face_image`, which no field matches, by a source
/// that declares a `photo`: the hub matches no images, so such a lookup finds nothing).
pub const SUBJECT_COLUMNS: &[(&str, &[&str])] = &[
    ("name", &["name", "student_name"]),
    ("plate", &["plate", "vehicle_registration"]),
    ("license_number", &["license_number"]),
];

/// The fields a subject of `kind` is matched against (none for an unknown kind or `face_image`).
pub fn subject_columns(kind: &str) -> &'static [&'static str] {
    SUBJECT_COLUMNS.iter().find(|(k, _)| *k == kind).map_or(&[], |(_, c)| c)
}

/// What a request asks to do with a source.
pub const ACTIONS: &[&str] = &["lookup", "bulk_export", "biometric_search"];

/// Categories of data source. `clets` is a state message switch (California's CLETS): queries
/// that reach DMV and other state files through it, governed by their own rules (Gov. Code 15160).
pub const SOURCE_CATEGORIES: &[&str] =
    &["alpr", "dmv_record", "dmv_photo", "gang_database", "immigration_status", "rms", "school_incident", "clets"];

/// Fields that carry only citizenship or immigration status: the information 8 U.S.C. 1373(a)
/// says no state or local law may stop an official from sending to or receiving from DHS.
pub const STATUS_FIELDS: &[&str] = &["immigration_status", "citizenship"];

/// Roles a user can hold (a token's role, a client certificate's OU). `supervisor` may approve or
/// deny reviews for the agency's sources; `auditor` (an oversight body's user) reads the ledger
/// and audits public records in the console, and may not request data; the others name what the
/// user does.
pub const ROLES: &[&str] = &[
    "supervisor",
    "analyst",
    "detective",
    "investigator",
    "officer",
    "deportation_officer",
    "special_agent",
    "clerk",
    "auditor",
];

/// Returns true if `value` is one of `vocabulary`.
pub fn is_known(vocabulary: &[&str], value: &str) -> bool {
    vocabulary.contains(&value)
}
