//! The justification classifier: reads the free-text justification of a request for signs of
//! immigration enforcement that its stated purpose hides ("criminal investigation" with "final order
//! of removal" in the text).
//!
//! The text is lowercased and split into word tokens at every character that is not a letter or a
//! digit, so "ICE+ERO" is `ice ero`, "287(g)" is `287 g` and "I-200" is `i 200`. Phrases match whole
//! tokens only: "police", "notice", "service" and "device" never match `ice`. At each position the
//! longest phrase wins, so `ice ero` is one strong finding, not also a weak `ice`. A phrase preceded
//! within three tokens by a negation (`not`, `no`, `non`, `unrelated`, `without`, `never`) is
//! recorded as negated and does not count ("not an immigration matter").
//!
//! Verdicts: any **strong** phrase means the request is treated as immigration enforcement, whatever
//! its stated purpose; otherwise any **weak** phrase sends it to a supervisor (where the owner's
//! agreement says so); otherwise **none**.
//!
//! Strong phrases name immigration enforcement itself: removal and deportation, detainers and the
//! administrative warrant forms (I-200, I-205, I-247), unlawful presence and overstays, the
//! agencies' enforcement units (ERO, FUGOPS, Border Patrol, CBP, USCIS, 287(g)), and the side-channel
//! phrasing reporters found in real logs ("ICE asked us", "for ICE", "ICE warrant", "immigration
//! question"). Weak phrases are suggestive but have innocent readings: `ice` alone (also slang for
//! methamphetamine), `hsi` (ICE's criminal arm, which works ordinary crimes), `visa`, `passport`,
//! `citizenship`, `place of birth`, `alien`, `consulate`, `dhs`. The full list is [`VOCABULARY`].

use std::collections::HashMap;
use std::sync::OnceLock;

/// How strongly a justification shows immigration enforcement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Signal {
    /// Nothing found.
    None,
    /// Suggestive; a supervisor should look.
    Weak,
    /// Immigration enforcement is shown.
    Strong,
}

impl Signal {
    /// "none", "weak" or "strong" (the value policies see in `context.justification_signal`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Weak => "weak",
            Self::Strong => "strong",
        }
    }
}

/// The vocabulary: (phrase as space-separated tokens, strength).
pub const VOCABULARY: &[(&str, Signal)] = &[
    // Removal and deportation.
    ("final order of removal", Signal::Strong),
    ("order of removal", Signal::Strong),
    ("removal order", Signal::Strong),
    ("removal proceedings", Signal::Strong),
    ("deportation", Signal::Strong),
    ("deport", Signal::Strong),
    ("deported", Signal::Strong),
    ("deportable", Signal::Strong),
    ("removable alien", Signal::Strong),
    // Status and presence.
    ("illegal alien", Signal::Strong),
    ("criminal alien", Signal::Strong),
    ("illegal reentry", Signal::Strong),
    ("illegal re entry", Signal::Strong),
    ("unlawfully present", Signal::Strong),
    ("unlawful presence", Signal::Strong),
    ("undocumented", Signal::Strong),
    ("overstay", Signal::Strong),
    ("overstayed", Signal::Strong),
    ("overstaying", Signal::Strong),
    ("immigration status", Signal::Strong),
    ("immigration question", Signal::Strong),
    ("immigration violation", Signal::Strong),
    ("immigration enforcement", Signal::Strong),
    ("civil immigration", Signal::Strong),
    ("immigration civil administrative", Signal::Strong),
    // Instruments no judge signed.
    ("detainer", Signal::Strong),
    ("immigration detainer", Signal::Strong),
    ("administrative warrant", Signal::Strong),
    ("ice warrant", Signal::Strong),
    ("i 200", Signal::Strong),
    ("i 203", Signal::Strong),
    ("i 205", Signal::Strong),
    ("i 247", Signal::Strong),
    ("i 247a", Signal::Strong),
    // Enforcement units and programmes.
    ("ero", Signal::Strong),
    ("ice ero", Signal::Strong),
    ("enforcement and removal", Signal::Strong),
    ("fugops", Signal::Strong),
    ("ice fugops", Signal::Strong),
    ("border patrol", Signal::Strong),
    ("usbp", Signal::Strong),
    ("cbp", Signal::Strong),
    ("uscis", Signal::Strong),
    ("287g", Signal::Strong),
    ("287 g", Signal::Strong),
    // The side channel.
    ("ice asked", Signal::Strong),
    ("ice asked us", Signal::Strong),
    ("ice requested", Signal::Strong),
    ("ice request", Signal::Strong),
    ("for ice", Signal::Strong),
    ("on behalf of ice", Signal::Strong),
    ("ice agent", Signal::Strong),
    ("ice case", Signal::Strong),
    // Suggestive only.
    ("ice", Signal::Weak),
    ("hsi", Signal::Weak),
    ("dhs", Signal::Weak),
    ("homeland security", Signal::Weak),
    ("immigration", Signal::Weak),
    ("immigrant", Signal::Weak),
    ("visa", Signal::Weak),
    ("passport", Signal::Weak),
    ("green card", Signal::Weak),
    ("citizenship", Signal::Weak),
    ("place of birth", Signal::Weak),
    ("country of origin", Signal::Weak),
    ("country of birth", Signal::Weak),
    ("foreign national", Signal::Weak),
    ("alien", Signal::Weak),
    ("consulate", Signal::Weak),
    ("asylum", Signal::Weak),
];

const NEGATIONS: &[&str] = &["not", "no", "non", "unrelated", "without", "never"];

/// One phrase found in a justification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The vocabulary phrase.
    pub phrase: &'static str,
    /// Its strength.
    pub signal: Signal,
    /// True if a negation precedes it (then it does not count).
    pub negated: bool,
}

/// The classifier's verdict and its evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classification {
    /// The strongest signal among non-negated findings.
    pub signal: Signal,
    /// Every phrase found, in text order.
    pub findings: Vec<Finding>,
}

impl Classification {
    /// The evidence as short strings, e.g. `strong: "final order of removal"`.
    pub fn evidence(&self) -> Vec<String> {
        self.findings
            .iter()
            .filter(|f| !f.negated)
            .map(|f| format!("{}: \"{}\"", f.signal.as_str(), f.phrase))
            .collect()
    }
}

struct Phrase {
    tokens: Vec<&'static str>,
    text: &'static str,
    signal: Signal,
}

fn index() -> &'static HashMap<&'static str, Vec<Phrase>> {
    static INDEX: OnceLock<HashMap<&'static str, Vec<Phrase>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map: HashMap<&'static str, Vec<Phrase>> = HashMap::new();
        for &(text, signal) in VOCABULARY {
            let tokens: Vec<&'static str> = text.split(' ').collect();
            map.entry(tokens[0]).or_default().push(Phrase { tokens, text, signal });
        }
        for phrases in map.values_mut() {
            phrases.sort_by_key(|p| std::cmp::Reverse(p.tokens.len()));
        }
        map
    })
}

/// Splits text into lowercase word tokens (letters and digits).
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(str::to_lowercase).collect()
}

/// Classifies a justification.
pub fn classify(text: &str) -> Classification {
    classify_tokens(&tokens(text))
}

/// Classifies text already split by [`tokens`] (lets a caller that runs several vocabularies over
/// the same text tokenize it once).
pub fn classify_tokens<T: AsRef<str>>(tokens: &[T]) -> Classification {
    let index = index();
    let mut findings = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let matched = index.get(tokens[i].as_ref()).and_then(|phrases| {
            phrases.iter().find(|p| {
                p.tokens.len() <= tokens.len() - i && p.tokens.iter().zip(&tokens[i..]).all(|(a, b)| *a == b.as_ref())
            })
        });
        match matched {
            Some(p) => {
                let negated = tokens[i.saturating_sub(3)..i].iter().any(|t| NEGATIONS.contains(&t.as_ref()));
                findings.push(Finding { phrase: p.text, signal: p.signal, negated });
                i += p.tokens.len();
            }
            None => i += 1,
        }
    }
    let signal = findings.iter().filter(|f| !f.negated).map(|f| f.signal).max().unwrap_or(Signal::None);
    Classification { signal, findings }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(text: &str) -> Signal {
        classify(text).signal
    }

    #[test]
    fn strong_phrases_from_the_public_record() {
        for text in [
            "Subject has a final order of removal",
            "ICE asked us to run this plate",
            "ICE+ERO",
            "ICE WARRANT",
            "assist 287(g) task force",
            "Immigration (civil/administrative)",
            "woman accused of overstaying a visa",
            "Immigration Question",
            "served I-200 on subject",
            "CBP request",
        ] {
            assert_eq!(signal(text), Signal::Strong, "{text:?}");
        }
    }

    #[test]
    fn word_boundaries_protect_innocent_words() {
        for text in [
            "police report of stolen device",
            "notice of service to the office",
            "Juice bar burglary, case 24-1177",
            "price of slice",
            "hero of the day",
        ] {
            assert_eq!(signal(text), Signal::None, "{text:?}");
        }
    }

    #[test]
    fn ambiguous_terms_are_weak() {
        assert_eq!(signal("suspect selling ice near school"), Signal::Weak);
        assert_eq!(signal("HSI human trafficking case 25-77"), Signal::Weak);
        assert_eq!(signal("passport fraud"), Signal::Weak);
    }

    #[test]
    fn negation_cancels_a_phrase() {
        let c = classify("robbery; not an immigration matter");
        assert_eq!(c.signal, Signal::None);
        assert!(c.findings[0].negated);
        // A negation elsewhere does not hide a later phrase.
        assert_eq!(signal("no case number yet, ICE asked us"), Signal::Strong);
    }

    #[test]
    fn longest_phrase_wins() {
        let c = classify("ICE ERO fugitive operations");
        assert_eq!(c.findings.len(), 1);
        assert_eq!(c.findings[0].phrase, "ice ero");
    }
}
