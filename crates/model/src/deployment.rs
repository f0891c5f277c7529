//! A deployment: the agencies that take part in a hub and the data sources they own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::vocab;

/// Where an agency's or a source's law comes from: an ISO 3166-2 state code ("US-CA"), or "US"
/// for a federal agency, and optionally a locality (a city) under that state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Jurisdiction {
    /// "US" for federal, otherwise an ISO 3166-2 subdivision code such as "US-CA".
    pub state: String,
    /// A city or county under the state, e.g. "Philadelphia"; empty when none.
    pub locality: String,
}

impl Jurisdiction {
    /// Parses "US", "US-CA" or "US-PA/Philadelphia".
    pub fn parse(text: &str) -> Result<Self, String> {
        let (state, locality) = match text.split_once('/') {
            Some((s, l)) => (s, l),
            None => (text, ""),
        };
        let valid_state = state == "US"
            || (state.len() == 5 && state.starts_with("US-") && state[3..].chars().all(|c| c.is_ascii_uppercase()));
        if !valid_state {
            return Err(format!(
                "jurisdiction {text:?}: expected \"US\", an ISO 3166-2 code like \"US-CA\", or \"US-PA/Philadelphia\""
            ));
        }
        if text.contains('/') && (locality.is_empty() || state == "US") {
            return Err(format!("jurisdiction {text:?}: a locality needs a state and a name"));
        }
        Ok(Self { state: state.to_string(), locality: locality.to_string() })
    }

    /// True for the federal jurisdiction.
    pub fn is_federal(&self) -> bool {
        self.state == "US"
    }

    /// The canonical text form, the inverse of [`Jurisdiction::parse`].
    pub fn key(&self) -> String {
        if self.locality.is_empty() {
            self.state.clone()
        } else {
            format!("{}/{}", self.state, self.locality)
        }
    }
}

impl<'de> Deserialize<'de> for Jurisdiction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Jurisdiction::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// What kind of body an agency is; statutes turn on it (a "public agency", an "agency that
/// primarily enforces immigration law", a fusion center that re-disseminates).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyKind {
    /// A DHS component that enforces immigration law (ICE, CBP).
    DhsImmigration,
    /// A federal law-enforcement agency other than DHS immigration (FBI, DEA, ATF, USMS).
    FederalLe,
    /// A fusion center or task force that re-disseminates what it gets.
    FusionCenter,
    /// A county sheriff.
    Sheriff,
    /// A city or county police department.
    LocalPolice,
    /// A state police or state public-safety department.
    StatePolice,
    /// A motor-vehicle department.
    Dmv,
    /// A school district's safety service.
    School,
    /// A private company (vendor, data host).
    Vendor,
    /// An oversight body (an inspector general, a privacy commission, a state auditor): reads the
    /// ledger and public records; holds and asks for no data.
    Oversight,
}

impl AgencyKind {
    /// True for a law-enforcement authority (police, sheriff, state police, fusion center, federal
    /// law enforcement, DHS): the recipients 28 CFR 23.20(f)(1) allows and most sanctuary laws bind.
    pub fn is_law_enforcement(self) -> bool {
        !matches!(self, Self::Dmv | Self::School | Self::Vendor | Self::Oversight)
    }

    /// The snake_case name used in configuration and policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DhsImmigration => "dhs_immigration",
            Self::FederalLe => "federal_le",
            Self::FusionCenter => "fusion_center",
            Self::Sheriff => "sheriff",
            Self::LocalPolice => "local_police",
            Self::StatePolice => "state_police",
            Self::Dmv => "dmv",
            Self::School => "school",
            Self::Vendor => "vendor",
            Self::Oversight => "oversight",
        }
    }
}

/// Whether, and how, an agency enforces immigration law.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImmigrationRole {
    /// Not an immigration agency.
    #[default]
    None,
    /// Primarily enforces civil immigration law (ICE-ERO, CBP).
    Civil,
    /// The criminal-investigation arm of an immigration agency (ICE-HSI).
    Criminal,
}

impl ImmigrationRole {
    /// The snake_case name used in configuration and policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Civil => "civil",
            Self::Criminal => "criminal",
        }
    }
}

/// An agency registered in the deployment.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    /// Stable id, e.g. "ice-ero".
    pub id: String,
    /// Full name.
    pub name: String,
    /// What kind of body it is.
    pub kind: AgencyKind,
    /// Whose law governs it.
    pub jurisdiction: Jurisdiction,
    /// Its immigration-enforcement role, if any.
    #[serde(default)]
    pub immigration_role: ImmigrationRole,
    /// Whether it has a 287(g) agreement with ICE.
    #[serde(default)]
    pub participates_287g: bool,
}

impl Agency {
    /// True for a federal agency.
    pub fn is_federal(&self) -> bool {
        self.jurisdiction.is_federal()
    }
}

/// A data source behind the hub, owned by one agency.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Stable id, e.g. "ociac-alpr".
    pub id: String,
    /// One of [`vocab::SOURCE_CATEGORIES`].
    pub category: String,
    /// The id of the agency that owns the data (whose disclosure law applies).
    pub owner: String,
    /// The fields a record of this source carries (what obligations may redact).
    pub fields: Vec<String>,
    /// Local agreements the owner has adopted for this source (see `laws/templates/`).
    #[serde(default)]
    pub agreements: Vec<String>,
    /// True for a criminal intelligence system operating with funds of the Omnibus Crime Control
    /// and Safe Streets Act, which 28 CFR Part 23 binds (23.3): a property of the system, not of
    /// its category.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub part23: bool,
    /// The table (`table` or `schema.table`; `main.table` in a SQLite file) of the sources
    /// database the hub reads this source's records from; absent: `DATA/sources/<id>.csv`, else
    /// the table named by the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
}

impl Source {
    /// The kinds of subject this source can be looked up by ([`vocab::SUBJECT_KINDS`]), from the
    /// fields it declares ([`vocab::SUBJECT_COLUMNS`]; `face_image` for a source with a `photo`).
    pub fn subject_kinds(&self) -> Vec<&'static str> {
        vocab::SUBJECT_KINDS
            .iter()
            .copied()
            .filter(|kind| match *kind {
                "face_image" => self.fields.iter().any(|f| f == "photo"),
                k => vocab::subject_columns(k).iter().any(|c| self.fields.iter().any(|f| f == c)),
            })
            .collect()
    }

    /// True if some record field is citizenship or immigration status (8 U.S.C. 1373 information).
    pub fn holds_status_fields(&self) -> bool {
        self.fields.iter().any(|f| vocab::is_known(vocab::STATUS_FIELDS, f))
    }
}

/// Why a deployment could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has a wrong field.
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The content is well-formed but inconsistent.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// The hub's limits per bearer token (or client certificate) and per agency, from the
/// deployment's `[limits]` table; every key is optional and falls back to its default here.
/// `fusionguard serve --limits off` lifts the rates and quotas (for benchmarks only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Sustained authenticated requests per second of one token (default 20).
    pub token_per_second: f64,
    /// Requests one token may send at once above its rate (default 100).
    pub token_burst: f64,
    /// Sustained authenticated requests per second of all the tokens of one agency (default 200).
    pub agency_per_second: f64,
    /// Requests one agency may send at once above its rate (default 1000).
    pub agency_burst: f64,
    /// Sustained envelopes per second from one peer hub, all its members' requests together
    /// (default 400).
    pub peer_per_second: f64,
    /// Envelopes one peer hub may send at once above its rate (default 2000).
    pub peer_burst: f64,
    /// Held reviews (pending a supervisor) one token may have outstanding (default 50).
    pub token_held_reviews: u32,
    /// Held reviews one agency may have outstanding (default 500).
    pub agency_held_reviews: u32,
    /// Hours an approved review's data may be fetched after the verdict (default 72; a
    /// fraction of an hour is allowed).
    pub approval_hours: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            token_per_second: 20.0,
            token_burst: 100.0,
            agency_per_second: 200.0,
            agency_burst: 1000.0,
            peer_per_second: 400.0,
            peer_burst: 2000.0,
            token_held_reviews: 50,
            agency_held_reviews: 500,
            approval_hours: 72.0,
        }
    }
}

impl Limits {
    /// Checks that every rate and burst is positive and finite and every quota at least 1.
    pub fn check(&self) -> Result<(), String> {
        let rates = [
            ("token_per_second", self.token_per_second),
            ("token_burst", self.token_burst),
            ("agency_per_second", self.agency_per_second),
            ("agency_burst", self.agency_burst),
            ("peer_per_second", self.peer_per_second),
            ("peer_burst", self.peer_burst),
            ("approval_hours", self.approval_hours),
        ];
        for (name, v) in rates {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("limits.{name} must be a positive number, found {v}"));
            }
        }
        for (name, v) in
            [("token_held_reviews", self.token_held_reviews), ("agency_held_reviews", self.agency_held_reviews)]
        {
            if v == 0 {
                return Err(format!("limits.{name} must be at least 1"));
            }
        }
        Ok(())
    }
}

/// A cost of the deployment and who pays for it (`[[funding]]`): the annual transparency report
/// states them, as surveillance-technology ordinances require.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Funding {
    /// What is paid for, by name (for example "Fusion center ALPR access").
    pub program: String,
    /// Who pays (for example "DHS FEMA Urban Area Security Initiative", "City general fund").
    pub grantor: String,
    /// How much, in US dollars (at most two decimals, not negative).
    pub amount_usd: f64,
    /// The calendar year the amount is for.
    pub year: i64,
    /// What the money buys, in a sentence.
    pub purpose: String,
}

impl Funding {
    /// Checks one entry; the message says what is wrong.
    fn check(&self) -> Result<(), String> {
        for (name, v) in [("program", &self.program), ("grantor", &self.grantor), ("purpose", &self.purpose)] {
            if v.trim().is_empty() {
                return Err(format!("`{name}` is empty"));
            }
        }
        let cents = self.amount_usd * 100.0;
        if !self.amount_usd.is_finite() || self.amount_usd < 0.0 || (cents - cents.round()).abs() > 1e-6 {
            return Err(format!(
                "`amount_usd` is {}; expected a number of US dollars, not negative, with at most two decimals",
                self.amount_usd
            ));
        }
        if !(1970..=9999).contains(&self.year) {
            return Err(format!("`year` is {}; expected a year from 1970 to 9999", self.year));
        }
        Ok(())
    }
}

/// This hub's part in a federation of hubs (`[federation]`): its name among its peers, whose law it
/// enforces, the agencies it serves, and the TLS files of hub-to-hub traffic (paths relative to the
/// deployment file).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Federation {
    /// This hub's name among its peers: the subject `CN` of its TLS certificate (whose `OU` is `hub`).
    pub name: String,
    /// The jurisdictions whose law this hub enforces (for example `["US-CA"]`): the law library's
    /// policies of other states and cities are left out; federal law and agreements always apply.
    pub law: Vec<String>,
    /// The agencies that are this hub's members: the only ones whose requests it may send to a peer.
    pub agencies: Vec<String>,
    /// The federation's CA certificate (PEM): peers' certificates must chain to it.
    pub ca: PathBuf,
    /// This hub's certificate (PEM, `serverAuth` and `clientAuth`, subject `OU=hub`, `CN=<name>`):
    /// it serves with it and presents it to its peers.
    pub cert: PathBuf,
    /// The private key of `cert` (PEM).
    pub key: PathBuf,
    /// How long a forwarded request's envelope is valid, in seconds (default 300): an envelope
    /// older than this, or from further in the future, is refused.
    #[serde(default = "default_window")]
    pub window_secs: u64,
}

fn default_window() -> u64 {
    300
}

/// A peer hub (`[[peer]]`): where it is, how to check what it signs, and what it serves.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peer {
    /// Its name: the subject `CN` of its TLS certificate.
    pub name: String,
    /// Its ledger's origin (the name in its checkpoints and receipts).
    pub origin: String,
    /// Its base URL (`https://host:port`).
    pub url: String,
    /// Its ledger's verifier key (its `DATA/ledger.vkey`, or `GET /v1/ledger/key`). Required to
    /// serve; `fusionguard demo --federation` fills it in.
    #[serde(default)]
    pub vkey: Option<String>,
    /// The agencies that are its members (whose requests it may send here).
    #[serde(default)]
    pub agencies: Vec<String>,
    /// The sources it serves (requests for them are forwarded to it).
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeploymentFile {
    /// Another deployment file (relative to this one) whose agencies, sources, funding and limits
    /// this one starts from.
    #[serde(default)]
    extends: Option<PathBuf>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    federation: Option<Federation>,
    #[serde(default, rename = "peer")]
    peers: Vec<Peer>,
    #[serde(default)]
    limits: Option<Limits>,
    #[serde(default, rename = "agency")]
    agencies: Vec<Agency>,
    #[serde(default, rename = "source")]
    sources: Vec<Source>,
    #[serde(default)]
    funding: Vec<Funding>,
}

/// The agencies and sources of one hub. Ids are unique; every source's owner is an agency here.
#[derive(Clone, Debug)]
pub struct Deployment {
    /// A display name.
    pub name: String,
    agencies: Vec<Agency>,
    sources: Vec<Source>,
    limits: Limits,
    funding: Vec<Funding>,
    federation: Option<Federation>,
    peers: Vec<Peer>,
    agency_index: HashMap<String, usize>,
    source_index: HashMap<String, usize>,
}

impl Deployment {
    /// The file a deployment directory holds.
    pub const FILE: &'static str = "deployment.toml";

    /// Loads `DIR/deployment.toml` (or the file itself if `path` is a file).
    /// Loads `DIR/deployment.toml` (or the file itself if `path` is a file), with the file it
    /// `extends` (one level), and with the federation's file paths made relative to the file.
    pub fn load(path: &Path) -> Result<Self, DeploymentError> {
        let file = if path.is_dir() { path.join(Self::FILE) } else { path.to_path_buf() };
        let (mut parsed, shown) = Self::read_file(&file)?;
        let dir = file.parent().unwrap_or(Path::new("."));
        if let Some(base) = parsed.extends.take() {
            let base = dir.join(base);
            let (base, base_shown) = Self::read_file(&base)?;
            if base.extends.is_some() {
                return Err(DeploymentError::Invalid {
                    path: base_shown,
                    message: "a deployment that another extends cannot itself extend one".into(),
                });
            }
            parsed = merge(base, parsed);
        }
        if let Some(f) = &mut parsed.federation {
            for p in [&mut f.ca, &mut f.cert, &mut f.key] {
                *p = dir.join(&*p);
            }
        }
        Self::build(parsed, &shown)
    }

    fn read_file(file: &Path) -> Result<(DeploymentFile, String), DeploymentError> {
        let shown = file.display().to_string();
        let text =
            std::fs::read_to_string(file).map_err(|source| DeploymentError::Io { path: shown.clone(), source })?;
        let parsed = toml::from_str(&text)
            .map_err(|e| DeploymentError::Syntax { path: shown.clone(), message: e.to_string() })?;
        Ok((parsed, shown))
    }

    /// Parses a deployment from TOML text (`extends` needs [`Deployment::load`]).
    pub fn from_toml_str(text: &str) -> Result<Self, DeploymentError> {
        let path = "<deployment>";
        let file: DeploymentFile = toml::from_str(text)
            .map_err(|e| DeploymentError::Syntax { path: path.to_string(), message: e.to_string() })?;
        if file.extends.is_some() {
            return Err(DeploymentError::Invalid {
                path: path.into(),
                message: "`extends` names a file: load the deployment from its file".into(),
            });
        }
        Self::build(file, path)
    }

    fn build(file: DeploymentFile, path: &str) -> Result<Self, DeploymentError> {
        let invalid = |message: String| DeploymentError::Invalid { path: path.to_string(), message };
        let limits = file.limits.unwrap_or_default();
        limits.check().map_err(invalid)?;
        let mut agency_index = HashMap::new();
        for (i, a) in file.agencies.iter().enumerate() {
            if agency_index.insert(a.id.clone(), i).is_some() {
                return Err(invalid(format!("agency id {:?} is defined twice", a.id)));
            }
        }
        let mut source_index = HashMap::new();
        for (i, s) in file.sources.iter().enumerate() {
            if source_index.insert(s.id.clone(), i).is_some() {
                return Err(invalid(format!("source id {:?} is defined twice", s.id)));
            }
            if !agency_index.contains_key(&s.owner) {
                return Err(invalid(format!("source {:?}: owner {:?} is not a registered agency", s.id, s.owner)));
            }
            if !vocab::is_known(vocab::SOURCE_CATEGORIES, &s.category) {
                return Err(invalid(format!(
                    "source {:?}: unknown category {:?} (known: {})",
                    s.id,
                    s.category,
                    vocab::SOURCE_CATEGORIES.join(", ")
                )));
            }
            if s.fields.is_empty() {
                return Err(invalid(format!("source {:?}: `fields` must list the record's fields", s.id)));
            }
            if let Some(t) = &s.table {
                let ident = |p: &str| {
                    p.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                        && p.len() <= 63
                        && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                };
                let parts: Vec<&str> = t.split('.').collect();
                if parts.len() > 2 || !parts.iter().all(|p| ident(p)) {
                    return Err(invalid(format!(
                        "source {:?}: table {t:?} must be `table` or `schema.table` in lower-case letters, digits and _",
                        s.id
                    )));
                }
            }
        }
        for (i, f) in file.funding.iter().enumerate() {
            f.check().map_err(|why| invalid(format!("funding entry {} ({:?}): {why}", i + 1, f.program)))?;
        }
        check_federation(file.federation.as_ref(), &file.peers, &agency_index, &source_index).map_err(invalid)?;
        Ok(Self {
            name: file.name,
            agencies: file.agencies,
            sources: file.sources,
            limits,
            funding: file.funding,
            federation: file.federation,
            peers: file.peers,
            agency_index,
            source_index,
        })
    }

    /// This hub's part in a federation (`[federation]`), if it has one.
    pub fn federation(&self) -> Option<&Federation> {
        self.federation.as_ref()
    }

    /// The peer hubs (`[[peer]]`), in file order.
    pub fn peers(&self) -> &[Peer] {
        &self.peers
    }

    /// The hub's rate limits and quotas (the `[limits]` table, defaults where absent).
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The costs and their funding sources (`[[funding]]`), as written; empty when the deployment
    /// gives none.
    pub fn funding(&self) -> &[Funding] {
        &self.funding
    }

    /// The agency with this id.
    pub fn agency(&self, id: &str) -> Option<&Agency> {
        self.agency_index.get(id).map(|&i| &self.agencies[i])
    }

    /// The source with this id.
    pub fn source(&self, id: &str) -> Option<&Source> {
        self.source_index.get(id).map(|&i| &self.sources[i])
    }

    /// The position of an agency in [`Deployment::agencies`].
    pub fn agency_position(&self, id: &str) -> Option<usize> {
        self.agency_index.get(id).copied()
    }

    /// The position of a source in [`Deployment::sources`].
    pub fn source_position(&self, id: &str) -> Option<usize> {
        self.source_index.get(id).copied()
    }

    /// All agencies, in file order.
    pub fn agencies(&self) -> &[Agency] {
        &self.agencies
    }

    /// All sources, in file order.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }
}

/// A deployment that extends `base`: the base's agencies and sources first, then its own; its
/// own name, federation, peers, limits and funding where it gives them.
fn merge(base: DeploymentFile, mut own: DeploymentFile) -> DeploymentFile {
    let mut agencies = base.agencies;
    agencies.append(&mut own.agencies);
    let mut sources = base.sources;
    sources.append(&mut own.sources);
    DeploymentFile {
        extends: None,
        name: if own.name.is_empty() { base.name } else { own.name },
        federation: own.federation,
        peers: own.peers,
        limits: own.limits.or(base.limits),
        agencies,
        sources,
        funding: if own.funding.is_empty() { base.funding } else { own.funding },
    }
}

/// Checks `[federation]` and `[[peer]]`: names and origins unique, every agency and source they
/// list known, no source served by two peers, every URL `https://`.
fn check_federation(
    federation: Option<&Federation>,
    peers: &[Peer],
    agencies: &HashMap<String, usize>,
    sources: &HashMap<String, usize>,
) -> Result<(), String> {
    let Some(f) = federation else {
        return match peers.first() {
            Some(p) => Err(format!("peer {:?}: a deployment with peers needs a [federation] table", p.name)),
            None => Ok(()),
        };
    };
    if f.name.trim().is_empty() {
        return Err("federation.name must not be empty".into());
    }
    for j in &f.law {
        Jurisdiction::parse(j).map_err(|e| format!("federation.law: {e}"))?;
    }
    if f.window_secs == 0 || f.window_secs > 86_400 {
        return Err(format!("federation.window_secs is {}; expected 1 to 86400", f.window_secs));
    }
    let unknown_agency = |a: &String| (!agencies.contains_key(a)).then(|| format!("agency {a:?} is not registered"));
    if let Some(why) = f.agencies.iter().find_map(unknown_agency) {
        return Err(format!("federation.agencies: {why}"));
    }
    let mut served: HashMap<&str, &str> = HashMap::new();
    for (i, p) in peers.iter().enumerate() {
        let at = format!("peer {:?}", p.name);
        if p.name.trim().is_empty() || p.origin.trim().is_empty() {
            return Err(format!("peer {}: `name` and `origin` must not be empty", i + 1));
        }
        if p.name == f.name || peers[..i].iter().any(|q| q.name == p.name || q.origin == p.origin) {
            return Err(format!("{at}: its name and origin must differ from this hub's and every other peer's"));
        }
        if !p.url.starts_with("https://") {
            return Err(format!("{at}: url {:?} must start with https:// (hub-to-hub traffic is mutual TLS)", p.url));
        }
        if let Some(why) = p.agencies.iter().find_map(unknown_agency) {
            return Err(format!("{at}: {why}"));
        }
        for s in &p.sources {
            if !sources.contains_key(s) {
                return Err(format!("{at}: source {s:?} is not registered"));
            }
            if let Some(other) = served.insert(s, &p.name) {
                return Err(format!("{at}: source {s:?} is already served by peer {other:?}"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jurisdiction_forms() {
        assert_eq!(Jurisdiction::parse("US").unwrap().key(), "US");
        assert_eq!(Jurisdiction::parse("US-PA/Philadelphia").unwrap().locality, "Philadelphia");
        for bad in ["", "CA", "US-california", "US/Boston", "US-MA/", "us-ca"] {
            assert!(Jurisdiction::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn rejects_dangling_owner_and_duplicates() {
        let err = Deployment::from_toml_str(
            "[[source]]\nid = \"s\"\ncategory = \"alpr\"\nowner = \"nobody\"\nfields = [\"plate\"]\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("owner \"nobody\""), "{err}");
        let a = "[[agency]]\nid = \"a\"\nname = \"A\"\nkind = \"dmv\"\njurisdiction = \"US-CA\"\n";
        let err = Deployment::from_toml_str(&format!("{a}{a}")).unwrap_err();
        assert!(err.to_string().contains("defined twice"), "{err}");
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = Deployment::from_toml_str("[[agency]]\nid = \"a\"\nkind = \"spy_agency\"\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 3") && text.contains("spy_agency"), "{text}");
    }
}
