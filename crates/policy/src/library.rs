//! The law library on disk: `laws/schema.cedarschema` and one folder per jurisdiction of `.cedar`
//! files, each policy annotated with what the checkpoint needs to cite it and to slice by it.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use cedar_policy::{ActionConstraint, Effect, Policy, PolicyId, PolicySet, Schema, ValidationMode, Validator};
use model::{vocab, Date};
use sha2::{Digest, Sha256};

use crate::obligation::Obligation;

/// The schema file at the library's root.
pub const SCHEMA_FILE: &str = "schema.cedarschema";

/// The annotations a policy may carry; any other is refused (a typo must not pass silently).
pub const ANNOTATIONS: &[&str] = &[
    "id",
    "citation",
    "summary",
    "jurisdiction",
    "side",
    "categories",
    "obligation",
    "outcome",
    "agreement",
    "effective",
    "expires",
    "verified",
];

/// How far the library's authors checked a policy against the law it cites (`@verified`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verified {
    /// `text YYYY-MM-DD ADDRESS`: the operative words of the enacted text were read on that day at
    /// that address.
    Text {
        /// The day the text was read.
        read_on: Date,
        /// Where (a URL).
        address: String,
    },
    /// `summary SOURCE`: only a secondary source (a digest, an analysis, guidance) was read.
    Summary {
        /// What was read, and where.
        source: String,
    },
    /// `unverified: WHAT IS MISSING`: the rule is encoded as the catalogue or secondary sources
    /// describe it, and this says what could not be found.
    Unverified {
        /// What is missing.
        missing: String,
    },
}

impl Verified {
    /// Parses the three forms of `@verified`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let forms = "expected \"text YYYY-MM-DD URL\", \"summary SOURCE\" or \"unverified: WHAT IS MISSING\"";
        if let Some(rest) = text.strip_prefix("text ") {
            let (date, address) = rest.trim().split_once(char::is_whitespace).unwrap_or((rest.trim(), ""));
            let read_on = date.parse::<Date>().map_err(|e| format!("@verified: {e}; {forms}"))?;
            let address = address.trim();
            if !(address.starts_with("https://") || address.starts_with("http://")) {
                return Err(format!(
                    "@verified(\"text ...\") needs the address (http or https URL) of the text read; {forms}"
                ));
            }
            return Ok(Self::Text { read_on, address: address.to_string() });
        }
        if let Some(rest) = text.strip_prefix("summary ") {
            if !rest.trim().is_empty() {
                return Ok(Self::Summary { source: rest.trim().to_string() });
            }
        }
        if let Some(rest) = text.strip_prefix("unverified:") {
            if !rest.trim().is_empty() {
                return Ok(Self::Unverified { missing: rest.trim().to_string() });
            }
        }
        Err(format!("@verified({text:?}): {forms}"))
    }

    /// `text`, `summary` or `unverified`: the level, as `laws list` shows it.
    pub fn level(&self) -> &'static str {
        match self {
            Self::Text { .. } => "text",
            Self::Summary { .. } => "summary",
            Self::Unverified { .. } => "unverified",
        }
    }

    /// What backs the level: the day and address read, the secondary source, or what is missing.
    pub fn detail(&self) -> String {
        match self {
            Self::Text { read_on, address } => format!("{read_on} {address}"),
            Self::Summary { source } => source.clone(),
            Self::Unverified { missing } => missing.clone(),
        }
    }
}

/// Which party's jurisdiction a law binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The data owner's (disclosure limits).
    Owner,
    /// The requester's (e.g. limits on inquiring into immigration status).
    Requester,
    /// Either.
    Both,
}

/// How the checkpoint uses a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyClass {
    /// An ordinary permit or forbid: Cedar's forbid-overrides-permit, default deny.
    Rule,
    /// A forbid that sends an otherwise permitted request to a supervisor instead of denying it.
    Review,
    /// A permit that releases a restricted part of the record even when rules deny (8 U.S.C. 1373).
    Floor,
    /// A permit that grants nothing and only attaches its obligations to a permitted request.
    Obligation,
}

/// One policy of the library with the metadata the checkpoint reports and slices by.
#[derive(Clone, Debug)]
pub struct LawPolicy {
    /// `@id`: stable, unique.
    pub id: String,
    /// `@citation`: the exact section enforced.
    pub citation: String,
    /// `@summary`: one plain sentence.
    pub summary: String,
    /// `@jurisdiction`: "US", "US-CA", "US-MA/Boston", or "*" for a template that applies wherever adopted.
    pub jurisdiction: String,
    /// `@side`.
    pub side: Side,
    /// `@categories`: the source categories it can apply to; empty means all.
    pub categories: Vec<String>,
    /// `@obligation`.
    pub obligations: Vec<Obligation>,
    /// `@agreement`: for a template (jurisdiction "*"), the agreement a source must have adopted.
    pub agreement: Option<String>,
    /// `@effective`: the first day the rule applies.
    pub effective: Date,
    /// `@expires`: the first day it no longer applies (repealed, lapsed or superseded), if any.
    pub expires: Option<Date>,
    /// `@verified`: how far the rule was checked against the text it cites.
    pub verified: Verified,
    /// The actions its scope admits (`action == ...`); empty means all.
    pub actions: Vec<String>,
    /// The context attributes its condition reads (`context.NAME`), for static pruning.
    pub context_fields: Vec<String>,
    /// `@outcome`: absent (rule), "review", "floor" or "obligation".
    pub class: PolicyClass,
    /// Permit or forbid.
    pub effect: Effect,
    /// The file it came from, relative to the library root.
    pub file: PathBuf,
    /// The Cedar policy, with `id` as its policy id.
    pub policy: Policy,
    /// The same condition as a permit: the checkpoint evaluates a whole slice of probes in one
    /// Cedar call, reads which conditions hold from the reasons, and applies each policy's effect
    /// and class itself (see `engine.rs`).
    pub probe: Policy,
    /// The probe in Cedar's JSON form, which slices specialise (`specialize.rs`).
    pub probe_json: serde_json::Value,
}

impl LawPolicy {
    /// True if it can apply to a source of this category.
    pub fn covers_category(&self, category: &str) -> bool {
        self.categories.is_empty() || self.categories.iter().any(|c| c == category)
    }

    /// True if the rule is in force on `date`: on or after `@effective` and before `@expires`.
    pub fn in_force(&self, date: Date) -> bool {
        self.effective <= date && self.expires.is_none_or(|e| date < e)
    }

    /// True for a forbid (a rule that denies, or a review policy), false for a permit.
    pub fn is_forbid(&self) -> bool {
        self.effect == Effect::Forbid
    }

    /// True for a model agreement or charter (`laws/templates`), false for a statute or rule.
    pub fn is_template(&self) -> bool {
        self.jurisdiction == "*"
    }

    /// True if its scope admits this action.
    pub fn covers_action(&self, action: &str) -> bool {
        self.actions.is_empty() || self.actions.iter().any(|a| a == action)
    }
}

/// Why a library could not be loaded. Every variant names the file, and where possible the policy
/// and the line and column.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not valid Cedar.
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A policy's annotations are missing or wrong.
    #[error("{file}: policy {policy}: {message}")]
    Annotation {
        /// The file.
        file: String,
        /// The policy's `@id`, or its position if it has none.
        policy: String,
        /// What is wrong.
        message: String,
    },
    /// Policies do not type-check against the schema (strict mode).
    #[error("schema validation failed:\n{}", .0.join("\n"))]
    Validation(Vec<String>),
}

/// A loaded, annotated and schema-validated law library. Only [`LawLibrary::load`] makes one, so
/// holding a `LawLibrary` means every policy passed strict validation.
#[derive(Clone, Debug)]
pub struct LawLibrary {
    root: PathBuf,
    schema: Schema,
    policies: Vec<LawPolicy>,
    digest: String,
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn first_label_offset(diag: &dyn miette::Diagnostic) -> Option<usize> {
    diag.labels().and_then(|mut labels| labels.next()).map(|l| l.offset())
}

/// The folder a jurisdiction's policies live in: "US-MA/Boston" -> "us-ma-boston", "*" -> "templates".
pub fn folder_for(jurisdiction: &str) -> String {
    if jurisdiction == "*" {
        "templates".to_string()
    } else {
        jurisdiction.to_ascii_lowercase().replace('/', "-")
    }
}

fn collect_files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) -> Result<(), LibraryError> {
    let io = |source| LibraryError::Io { path: dir.display().to_string(), source };
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).map_err(io)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>().map_err(io)?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_files(&path, ext, out)?;
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
    Ok(())
}

/// Lists the files under `dir` (recursively, sorted) whose extension is `ext`.
pub fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, LibraryError> {
    let mut out = Vec::new();
    collect_files(dir, ext, &mut out)?;
    Ok(out)
}

impl LawLibrary {
    /// Loads and validates the library under `root` (the `laws/` folder).
    pub fn load(root: &Path) -> Result<Self, LibraryError> {
        let schema_path = root.join(SCHEMA_FILE);
        let schema_text = std::fs::read_to_string(&schema_path)
            .map_err(|source| LibraryError::Io { path: schema_path.display().to_string(), source })?;
        let (schema, _warnings) = Schema::from_cedarschema_str(&schema_text).map_err(|e| {
            let (line, column) = first_label_offset(&e).map_or((1, 1), |o| line_column(&schema_text, o));
            LibraryError::Parse { file: schema_path.display().to_string(), line, column, message: e.to_string() }
        })?;

        let mut hasher = Sha256::new();
        hasher.update(b"schema\0");
        hasher.update(schema_text.as_bytes());
        let mut policies = Vec::new();
        let mut seen = HashSet::new();
        for path in files_with_extension(root, "cedar")? {
            let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            let shown = rel.display().to_string();
            let text =
                std::fs::read_to_string(&path).map_err(|source| LibraryError::Io { path: shown.clone(), source })?;
            hasher.update(b"\0file\0");
            hasher.update(shown.as_bytes());
            hasher.update(b"\0");
            hasher.update(text.as_bytes());
            let parsed = PolicySet::from_str(&text).map_err(|e| {
                let (line, column) = first_label_offset(&e).map_or((1, 1), |o| line_column(&text, o));
                LibraryError::Parse { file: shown.clone(), line, column, message: e.to_string() }
            })?;
            // Cedar names parsed policies policy0, policy1, ... in file order.
            let mut in_file: Vec<&Policy> = parsed.policies().collect();
            in_file.sort_by_key(|p| p.id().to_string().trim_start_matches("policy").parse::<usize>().unwrap_or(0));
            for (n, policy) in in_file.into_iter().enumerate() {
                let law = Self::annotate(policy, &rel, n)?;
                if !seen.insert(law.id.clone()) {
                    return Err(LibraryError::Annotation {
                        file: shown.clone(),
                        policy: law.id,
                        message: "this @id is already used by another policy".into(),
                    });
                }
                policies.push(law);
            }
        }

        let mut all = PolicySet::new();
        for p in &policies {
            all.add(p.policy.clone()).map_err(|e| LibraryError::Validation(vec![e.to_string()]))?;
        }
        let result = Validator::new(schema.clone()).validate(&all, ValidationMode::Strict);
        if !result.validation_passed() {
            let messages = result
                .validation_errors()
                .map(|e| {
                    let id = e.policy_id().to_string();
                    let file = policies.iter().find(|p| p.id == id).map(|p| p.file.display().to_string());
                    format!("{}: policy {id}: {e}", file.unwrap_or_default())
                })
                .collect();
            return Err(LibraryError::Validation(messages));
        }
        Ok(Self { root: root.to_path_buf(), schema, policies, digest: hex::encode(hasher.finalize()) })
    }

    fn annotate(policy: &Policy, file: &Path, position: usize) -> Result<LawPolicy, LibraryError> {
        let id = policy.annotation("id").map(str::to_string);
        let err = |message: String| LibraryError::Annotation {
            file: file.display().to_string(),
            policy: id.clone().unwrap_or_else(|| format!("#{} (no @id)", position + 1)),
            message,
        };
        for (key, _) in policy.annotations() {
            if !ANNOTATIONS.contains(&key) {
                return Err(err(format!("unknown annotation @{key} (known: {})", ANNOTATIONS.join(", "))));
            }
        }
        let required = |key: &str| match policy.annotation(key) {
            Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
            _ => Err(err(format!("missing @{key}"))),
        };
        let id = required("id")?;
        if !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.') {
            return Err(err("@id may use only lowercase letters, digits, '-' and '.'".into()));
        }
        let citation = required("citation")?;
        let summary = required("summary")?;
        if !summary.ends_with('.') {
            return Err(err("@summary must be one plain sentence ending with a period".into()));
        }
        let jurisdiction = required("jurisdiction")?;
        if jurisdiction != "*" {
            model::Jurisdiction::parse(&jurisdiction).map_err(err)?;
        }
        let folder = file.components().next().map(|c| c.as_os_str().to_string_lossy().to_string()).unwrap_or_default();
        if folder != folder_for(&jurisdiction) {
            return Err(err(format!(
                "@jurisdiction(\"{jurisdiction}\") belongs in folder {:?}, not {folder:?}",
                folder_for(&jurisdiction)
            )));
        }
        let side = match required("side")?.as_str() {
            "owner" => Side::Owner,
            "requester" => Side::Requester,
            "both" => Side::Both,
            other => return Err(err(format!("@side({other:?}): expected owner, requester or both"))),
        };
        let categories_text = required("categories")?;
        let categories: Vec<String> = if categories_text == "*" {
            Vec::new()
        } else {
            categories_text.split(',').map(|c| c.trim().to_string()).collect()
        };
        if let Some(bad) = categories.iter().find(|c| !vocab::is_known(vocab::SOURCE_CATEGORIES, c)) {
            return Err(err(format!("@categories: unknown category {bad:?}")));
        }
        let obligations = match policy.annotation("obligation") {
            Some(text) => Obligation::parse_list(text).map_err(err)?,
            None => Vec::new(),
        };
        let agreement = policy.annotation("agreement").map(str::to_string);
        match (&agreement, jurisdiction == "*") {
            (None, true) => return Err(err("a template (@jurisdiction(\"*\")) needs @agreement(...)".into())),
            (Some(_), false) => return Err(err("@agreement is only for templates (@jurisdiction(\"*\"))".into())),
            (Some(a), true) => {
                // The slicer trusts the annotation, so the condition must say the same.
                if !policy.to_string().contains(&format!("resource.agreements.contains(\"{a}\")")) {
                    return Err(err(format!(
                        "@agreement({a:?}) but the condition does not test resource.agreements.contains(\"{a}\")"
                    )));
                }
            }
            (None, false) => {}
        }
        let date = |key: &str| -> Result<Option<Date>, LibraryError> {
            policy
                .annotation(key)
                .map(|v| v.trim().parse::<Date>().map_err(|e| err(format!("@{key}: {e}"))))
                .transpose()
        };
        let effective = date("effective")?
            .ok_or_else(|| err("missing @effective(\"YYYY-MM-DD\"): the first day the rule applies".into()))?;
        let expires = date("expires")?;
        if expires.is_some_and(|e| e <= effective) {
            return Err(err("@expires must be after @effective".into()));
        }
        let verified = Verified::parse(&required("verified").map_err(|_| {
            err("missing @verified(\"text YYYY-MM-DD URL\" | \"summary SOURCE\" | \"unverified: WHAT IS MISSING\")"
                .into())
        })?)
        .map_err(err)?;
        let actions = match policy.action_constraint() {
            ActionConstraint::Any => Vec::new(),
            ActionConstraint::Eq(uid) => vec![uid.id().unescaped().to_string()],
            ActionConstraint::In(uids) => uids.iter().map(|u| u.id().unescaped().to_string()).collect(),
        };
        let effect = policy.effect();
        let class = match policy.annotation("outcome") {
            None => PolicyClass::Rule,
            Some("review") => PolicyClass::Review,
            Some("floor") => PolicyClass::Floor,
            Some("obligation") => PolicyClass::Obligation,
            Some(other) => return Err(err(format!("@outcome({other:?}): expected review, floor or obligation"))),
        };
        match (class, effect) {
            (PolicyClass::Review, Effect::Permit) => return Err(err("@outcome(\"review\") must be a forbid".into())),
            (PolicyClass::Floor | PolicyClass::Obligation, Effect::Forbid) => {
                return Err(err("@outcome(\"floor\") and @outcome(\"obligation\") must be a permit".into()))
            }
            _ => {}
        }
        if class == PolicyClass::Floor && !obligations.iter().any(Obligation::restricts_data) {
            return Err(err("a floor policy must restrict the data it releases (redact: or release_only:)".into()));
        }
        if class == PolicyClass::Obligation && obligations.is_empty() {
            return Err(err("@outcome(\"obligation\") needs an @obligation".into()));
        }
        let policy = policy.new_id(PolicyId::new(&id));
        let probe = policy.to_json().map_err(|e| err(e.to_string())).and_then(|mut json| {
            json["effect"] = serde_json::Value::String("permit".into());
            Policy::from_json(Some(PolicyId::new(&id)), json).map_err(|e| err(e.to_string()))
        })?;
        let probe_json = probe.to_json().map_err(|e| err(e.to_string()))?;
        let text = probe.to_string();
        let mut context_fields: Vec<String> = text
            .match_indices("context.")
            .map(|(i, m)| {
                text[i + m.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>()
            })
            .collect();
        context_fields.sort();
        context_fields.dedup();
        Ok(LawPolicy {
            id,
            citation,
            summary,
            jurisdiction,
            side,
            categories,
            obligations,
            agreement,
            effective,
            expires,
            verified,
            actions,
            context_fields,
            class,
            effect,
            file: file.to_path_buf(),
            policy,
            probe,
            probe_json,
        })
    }

    /// The folder it was loaded from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The Cedar schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Every policy, in file order.
    pub fn policies(&self) -> &[LawPolicy] {
        &self.policies
    }

    /// The library as a hub that enforces only the law of `jurisdictions` holds it (a federated
    /// hub's `[federation] law`): federal policies (`US`, `*`) and agreement templates stay, and
    /// so do the policies of a listed state or city, of the state a listed city is in, and of the
    /// cities of a listed state; every other state's and city's are left out. The digest then names the restriction too.
    /// An empty list keeps everything.
    pub fn restricted_to(mut self, jurisdictions: &[String]) -> Self {
        if jurisdictions.is_empty() {
            return self;
        }
        let keep = |p: &LawPolicy| {
            p.agreement.is_some()
                || p.jurisdiction == "*"
                || p.jurisdiction == "US"
                || jurisdictions.iter().any(|j| {
                    let state = j.split('/').next().unwrap_or(j);
                    p.jurisdiction == *j
                        || p.jurisdiction == state
                        || p.jurisdiction.strip_prefix(j.as_str()).is_some_and(|rest| rest.starts_with('/'))
                })
        };
        self.policies.retain(keep);
        let mut hasher = Sha256::new();
        hasher.update(self.digest.as_bytes());
        hasher.update(format!("\nrestricted to {}\n", jurisdictions.join(",")).as_bytes());
        self.digest = hex::encode(hasher.finalize());
        self
    }

    /// SHA-256 (hex) over the schema and every policy file: names which library decided.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The certifications the library's policies ask for (`certify:WHAT`), sorted: the
    /// vocabulary of a request's `certifications`.
    pub fn certifications(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .policies
            .iter()
            .flat_map(|p| &p.obligations)
            .filter_map(|o| match o {
                Obligation::Certify(what) => Some(what.clone()),
                _ => None,
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Policies grouped by jurisdiction, for listing.
    pub fn by_jurisdiction(&self) -> BTreeMap<&str, Vec<&LawPolicy>> {
        let mut map: BTreeMap<&str, Vec<&LawPolicy>> = BTreeMap::new();
        for p in &self.policies {
            map.entry(p.jurisdiction.as_str()).or_default().push(p);
        }
        map
    }
}
