//! The agency directory: who an agency named in free text is, which state it belongs to, and which
//! level of government (federal, state, local, regional, vendor, private, test account).
//!
//! Names in released records are inconsistent ("Chino PD (CA)", "Mendocino County SO-CA", "NCRIC",
//! "FBI"). Resolution tries, in order, and always says which rule it used:
//! 1. **alias**: the normalised name (lowercase, `&` as "and", punctuation as spaces) is a name or
//!    alias in the directory (`data/agencies.csv`, compiled in);
//! 2. **federal marker**: the name contains a federal agency's name or acronym (`FBI`, `ATF`,
//!    `DEA`, `USMS`, `HSI`, `ICE`, `CBP`, `Border Patrol`, `US Army`, `National Park Service`,
//!    `Veterans Affairs`, a `[Federal]` tag...);
//! 3. **state code**: the name carries exactly one US postal code as a separate upper-case word
//!    (`Chino PD (CA)`, `Mendocino County SO-CA`, `Palm Springs CA PD`, `CA - Wasco PD`). `CO` and
//!    `SD` next to another code are read as "County" and "Sheriff's Department". The level is read
//!    from the name (`PD`, `SO`, `County` → local; `State Police`, `Highway Patrol` → state), and is
//!    `unknown` otherwise.
//!
//! Anything else is **unresolved** and reported as such: the directory never guesses.
//!
//! 287(g) participation is a column of the directory, filled only from ICE's published list of
//! participants; it is empty (unknown) for every agency in this version.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};

/// The directory's data file.
pub const AGENCIES_CSV: &str = include_str!("../data/agencies.csv");

/// US postal codes of the states, DC and Puerto Rico.
pub const STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME",
    "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA",
    "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC", "PR",
];

/// Level of government (or what the account is, when it is not government).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// A federal agency.
    Federal,
    /// A state agency.
    State,
    /// A city, county or other local agency.
    Local,
    /// A fusion center, RISS centre or multi-agency task force.
    Regional,
    /// A technology vendor.
    Vendor,
    /// A private company, utility, private university or research group.
    Private,
    /// A demo or test account.
    Test,
    /// Resolved to a state, level not stated in the name.
    Unknown,
}

impl Level {
    fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "federal" => Level::Federal,
            "state" => Level::State,
            "local" => Level::Local,
            "regional" => Level::Regional,
            "vendor" => Level::Vendor,
            "private" => Level::Private,
            "test" => Level::Test,
            _ => return None,
        })
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Federal => "federal",
            Level::State => "state",
            Level::Local => "local",
            Level::Regional => "regional",
            Level::Vendor => "vendor",
            Level::Private => "private",
            Level::Test => "test",
            Level::Unknown => "unknown",
        }
    }

    /// Whether this is a public agency (federal, state, local or regional).
    pub fn is_public(self) -> bool {
        matches!(self, Level::Federal | Level::State | Level::Local | Level::Regional | Level::Unknown)
    }
}

/// One agency of the directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Agency {
    /// Stable id.
    pub id: String,
    /// Official name.
    pub name: String,
    /// Other names it goes by in records.
    pub aliases: Vec<String>,
    /// Postal code of its state; `US` for federal agencies; empty when unknown (multi-state).
    pub state: String,
    /// Level of government.
    pub level: Level,
    /// The DHS component (ICE, CBP, USCIS, DHS), if it is one.
    pub dhs_component: Option<String>,
    /// 287(g) participation: `Some(true/false)` when known from ICE's list, `None` otherwise.
    pub program_287g: Option<bool>,
    /// Where the entry comes from.
    pub source: String,
}

/// How a name was resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Method {
    /// A directory name or alias.
    Alias {
        /// The directory id.
        id: String,
    },
    /// A federal agency's name or acronym in the text.
    FederalMarker {
        /// The marker found.
        marker: String,
    },
    /// A US postal code in the name.
    StateCode {
        /// The code as written.
        code: String,
    },
    /// Not resolved.
    Unresolved {
        /// Why not.
        reason: String,
    },
}

/// What the directory knows of a name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// The name as written.
    pub name: String,
    /// State postal code, `US` for federal; `None` if unknown.
    pub state: Option<String>,
    /// Level of government; `None` if unresolved.
    pub level: Option<Level>,
    /// DHS component, if any.
    pub dhs_component: Option<String>,
    /// The rule that resolved it.
    #[serde(flatten)]
    pub method: Method,
}

impl Resolution {
    /// Whether the name was resolved.
    pub fn is_resolved(&self) -> bool {
        !matches!(self.method, Method::Unresolved { .. })
    }
}

impl fmt::Display for Resolution {
    /// e.g. `Chino PD (CA) => CA local (state code "CA")`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match &self.method {
            Method::Alias { id } => format!("directory entry {id}"),
            Method::FederalMarker { marker } => format!("federal marker {marker:?}"),
            Method::StateCode { code } => format!("state code {code:?}"),
            Method::Unresolved { reason } => return write!(f, "{} => UNRESOLVED ({reason})", self.name),
        };
        write!(
            f,
            "{} => {} {}{} ({how})",
            self.name,
            self.state.as_deref().unwrap_or("?"),
            self.level.map_or("?", Level::as_str),
            self.dhs_component.as_deref().map(|c| format!(" DHS/{c}")).unwrap_or_default()
        )
    }
}

/// The agency directory.
#[derive(Clone, Debug)]
pub struct Directory {
    agencies: Vec<Agency>,
    by_alias: HashMap<String, usize>,
}

/// Normalises a name for alias lookup: lowercase, `&` as "and", every run of other characters
/// that are not letters or digits as one space.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for word in name.replace('&', " and ").split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

const FEDERAL_MARKERS: &[&str] = &[
    "fbi",
    "atf",
    "dea",
    "usms",
    "us marshals",
    "hsi",
    "homeland security investigations",
    "ice",
    "ice ero",
    "cbp",
    "border patrol",
    "uscis",
    "us army",
    "us air force",
    "us navy",
    "us coast guard",
    "national park service",
    "veterans affairs",
    "postal inspection",
    "federal",
];

const LOCAL_MARKERS: &[&str] = &[
    "pd",
    "so",
    "sd",
    "police",
    "sheriff",
    "sheriffs",
    "county",
    "co",
    "city",
    "town",
    "township",
    "twp",
    "village",
    "marshal",
    "marshals",
    "constable",
    "const",
    "da",
    "das",
    "isd",
    "borough",
    "parish",
];
const STATE_MARKERS: &[&str] = &["state police", "highway patrol", "state patrol", "dps", "department of"];

fn contains_phrase(tokens: &[&str], phrase: &str) -> bool {
    let p: Vec<&str> = phrase.split(' ').collect();
    tokens.windows(p.len()).any(|w| w == p.as_slice())
}

impl Directory {
    /// The built-in directory (`data/agencies.csv`).
    pub fn builtin() -> Result<Directory> {
        Directory::from_csv(AGENCIES_CSV)
    }

    /// Parses a directory in the format of `data/agencies.csv`: `id, name, aliases` (separated by
    /// `|`), `state, level, dhs_component, program_287g` (`true`, `false` or empty), `source`.
    pub fn from_csv(text: &str) -> Result<Directory> {
        let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let mut agencies = Vec::new();
        let mut by_alias = HashMap::new();
        for rec in r.records() {
            let rec = rec
                .map_err(|e| Error::Directory { line: e.position().map_or(0, |p| p.line()), message: e.to_string() })?;
            let line = rec.position().map_or(0, |p| p.line());
            let bad = |message: String| Error::Directory { line, message };
            if rec.len() != 8 {
                return Err(bad(format!("{} fields, expected 8", rec.len())));
            }
            let level = Level::parse(&rec[4]).ok_or_else(|| bad(format!("unknown level {:?}", &rec[4])))?;
            let state = rec[3].to_owned();
            if !(state.is_empty() || state == "US" || STATES.contains(&state.as_str())) {
                return Err(bad(format!("unknown state {state:?}")));
            }
            let program_287g = match &rec[6] {
                "" => None,
                "true" => Some(true),
                "false" => Some(false),
                other => return Err(bad(format!("program_287g must be true, false or empty, not {other:?}"))),
            };
            let agency = Agency {
                id: rec[0].to_owned(),
                name: rec[1].to_owned(),
                aliases: rec[2].split('|').filter(|a| !a.is_empty()).map(str::to_owned).collect(),
                state,
                level,
                dhs_component: Some(rec[5].to_owned()).filter(|c| !c.is_empty()),
                program_287g,
                source: rec[7].to_owned(),
            };
            let i = agencies.len();
            for name in std::iter::once(&agency.name).chain(&agency.aliases) {
                if let Some(&j) = by_alias.get(&normalize(name)) {
                    if j != i {
                        let other: &Agency = &agencies[j];
                        return Err(bad(format!("alias {name:?} already names {}", other.id)));
                    }
                }
                by_alias.insert(normalize(name), i);
            }
            agencies.push(agency);
        }
        Ok(Directory { agencies, by_alias })
    }

    /// Every agency of the directory.
    pub fn agencies(&self) -> &[Agency] {
        &self.agencies
    }

    /// The agency with this id.
    pub fn get(&self, id: &str) -> Option<&Agency> {
        self.agencies.iter().find(|a| a.id == id)
    }

    /// Resolves a name (see the module documentation for the rules, in order).
    pub fn resolve(&self, name: &str) -> Resolution {
        let norm = normalize(name);
        let unresolved = |reason: &str| Resolution {
            name: name.to_owned(),
            state: None,
            level: None,
            dhs_component: None,
            method: Method::Unresolved { reason: reason.to_owned() },
        };
        if norm.is_empty() {
            return unresolved("empty name");
        }
        if let Some(&i) = self.by_alias.get(&norm) {
            let a = &self.agencies[i];
            return Resolution {
                name: name.to_owned(),
                state: Some(a.state.clone()).filter(|s| !s.is_empty()),
                level: Some(a.level),
                dhs_component: a.dhs_component.clone(),
                method: Method::Alias { id: a.id.clone() },
            };
        }
        let tokens: Vec<&str> = norm.split(' ').collect();
        if let Some(marker) = FEDERAL_MARKERS.iter().find(|m| contains_phrase(&tokens, m)) {
            let dhs = match *marker {
                "hsi" | "homeland security investigations" | "ice" | "ice ero" => Some("ICE"),
                "cbp" | "border patrol" => Some("CBP"),
                "uscis" => Some("USCIS"),
                _ => None,
            };
            return Resolution {
                name: name.to_owned(),
                state: Some("US".into()),
                level: Some(Level::Federal),
                dhs_component: dhs.map(str::to_owned),
                method: Method::FederalMarker { marker: (*marker).to_owned() },
            };
        }
        // Upper-case two-letter words that are postal codes, as written.
        let words: Vec<&str> = name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
        let mut codes: Vec<&str> = Vec::new();
        for w in &words {
            if STATES.contains(w) && !codes.contains(w) {
                codes.push(w);
            }
        }
        if codes.len() > 1 {
            codes.retain(|c| *c != "CO" && *c != "SD");
        }
        match codes.as_slice() {
            [] => unresolved("not in the directory and no state code in the name"),
            [code] => {
                let level = if STATE_MARKERS.iter().any(|m| contains_phrase(&tokens, m)) {
                    Level::State
                } else if LOCAL_MARKERS.iter().any(|m| tokens.contains(m)) {
                    Level::Local
                } else {
                    Level::Unknown
                };
                Resolution {
                    name: name.to_owned(),
                    state: Some((*code).to_owned()),
                    level: Some(level),
                    dhs_component: None,
                    method: Method::StateCode { code: (*code).to_owned() },
                }
            }
            several => unresolved(&format!("several state codes in the name: {}", several.join(", "))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(name: &str) -> String {
        Directory::builtin().unwrap().resolve(name).to_string()
    }

    #[test]
    fn the_messy_names_of_the_brief() {
        assert_eq!(show("Chino PD (CA)"), "Chino PD (CA) => CA local (state code \"CA\")");
        assert_eq!(show("Mendocino County SO-CA"), "Mendocino County SO-CA => CA local (state code \"CA\")");
        assert_eq!(show("Palm Springs CA PD"), "Palm Springs CA PD => CA local (state code \"CA\")");
        assert_eq!(show("NCRIC"), "NCRIC => CA regional (directory entry ncric)");
        assert_eq!(show("FBI"), "FBI => US federal (directory entry fbi)");
        assert_eq!(show("ICE+ERO"), "ICE+ERO => US federal DHS/ICE (directory entry ice-ero)");
        assert_eq!(show("HSI Los Angeles"), "HSI Los Angeles => US federal DHS/ICE (federal marker \"hsi\")");
        assert_eq!(show("ATF Nashville TN"), "ATF Nashville TN => US federal (directory entry atf-nashville)");
        assert_eq!(show("Reeves CO TX SO"), "Reeves CO TX SO => TX local (state code \"TX\")");
        assert_eq!(
            show("Ohio State Highway Patrol"),
            "Ohio State Highway Patrol => OH state (directory entry ohio-shp)"
        );
        assert_eq!(show("Kentucky State Police KY"), "Kentucky State Police KY => KY state (state code \"KY\")");
    }

    #[test]
    fn never_guesses() {
        assert_eq!(
            show("Lynne Drake"),
            "Lynne Drake => UNRESOLVED (not in the directory and no state code in the name)"
        );
        assert!(show("Police of Somewhere").contains("UNRESOLVED"));
        assert_eq!(
            show("Texarkana AR TX PD"),
            "Texarkana AR TX PD => UNRESOLVED (several state codes in the name: AR, TX)"
        );
        assert!(show("").contains("empty name"));
        // "police", "notice", "justice" are not ICE.
        assert!(show("Justice Center Police").contains("UNRESOLVED"));
    }

    #[test]
    fn malformed_directory_is_refused_with_its_line() {
        let e = Directory::from_csv(
            "id,name,aliases,state,level,dhs_component,program_287g,source\nx,X,,CA,galactic,,,t\n",
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "agency directory, line 2: unknown level \"galactic\"");
        let e = Directory::from_csv(
            "id,name,aliases,state,level,dhs_component,program_287g,source\nx,X,,CA,local,,,t\ny,X,,CA,local,,,t\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("line 3: alias \"X\" already names x"));
    }
}
