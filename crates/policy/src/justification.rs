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
//!
//! ## Disguised spellings
//!
//! A justification is written by the person who wants the data, so the classifier reads what a
//! person reads, not the bytes:
//! - **Look-alike characters.** Text that is not plain ASCII is first put in Unicode NFKC (full-width
//!   `ＩＣＥ`, mathematical `𝐈𝐂𝐄` and circled `ⓘⓒⓔ` become `ICE`) and lowercased; then every letter
//!   or digit that is still not ASCII is replaced by its UTS #39 confusable *skeleton* (the
//!   `unicode-security` crate) without accents or other combining marks, where that skeleton is
//!   ASCII letters and digits. So the Cyrillic `ІСЕ` reads as `ice`, `dеpоrt` with Cyrillic `е` and
//!   `о` as `deport`, and `dépórt` as `deport`. Combining marks and invisible characters (zero-width
//!   space, soft hyphen, joiners) are dropped, so they cannot split a word; other punctuation stays
//!   as it is and separates tokens as before (the skeleton of `—` is the letter `ー`, which would
//!   glue `ICE—asked` into one token).
//!
//!   Only non-ASCII characters go through the skeleton: UTS #39 also maps some ASCII (`m` to `rn`,
//!   `1` and `I` to `l`, `0` to `O`), which would break the vocabulary (`immigration` would no longer
//!   match), and ASCII letters are already what the vocabulary is written in, so the vocabulary needs
//!   no skeleton of its own. Each character is skeletonised after lowercasing: the Cyrillic capital
//!   `І` and the Latin `I` share the prototype `l`, but the lowercase `і` has the prototype `i`;
//!   where the lowercase form has no ASCII prototype but the capital has (Greek `Ε`), the capital's
//!   is used. ASCII text skips all of this, so ordinary text costs nothing extra.
//! - **Spelled-out letters.** A run of two or more single-letter tokens, whatever separates them
//!   (`I.C.E.`, `i c e`, `d-e-p-o-r-t`, `D.E.P.O.R.T.A.T.I.O.N`, `І.С.Е.`), is read as the word it
//!   spells: inside the run, the longest stretch of letters that spells a word of the vocabulary
//!   (of two letters or more) becomes that word (`a I.C.E. agent` is `a ice agent`), and the other
//!   letters stay as they were. Only vocabulary words are made, so ordinary initials and lists
//!   (`a b c`, `J. R. Smith`, `e.g.`, `U.S.`, `(a)(b)`) change nothing, and `I-200` (a letter then a
//!   number) is still the form `i 200`. A run is only looked for when two single-letter tokens are
//!   adjacent, so most text takes no extra work.
//!
//! What the classifier still does not read: words split into pieces longer than one letter
//! (`de port`), digits for letters (`1CE`, `dep0rt`), and phrases in other languages.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};
use unicode_security::confusable_detection::skeleton;

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
    ("ice hold", Signal::Strong),
    ("ice holds", Signal::Strong),
    ("immigration hold", Signal::Strong),
    ("ice detainer", Signal::Strong),
    ("ice detainers", Signal::Strong),
    ("hsi case", Signal::Strong),
    ("removal", Signal::Strong),
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

/// Readings that are not immigration enforcement although they hold a word of [`VOCABULARY`]: the
/// weather (`ice storm`, `black ice`, `ice on the road`), things called ice (`ice cream`, `dry ice`),
/// a criminal court's advice to a defendant (`immigration consequences of a plea`), a police
/// department's certification for a crime victim (`u visa`), DHS grants, sanctuary policy's own
/// wording (`regardless of immigration status`), and removal of things rather than people (`snow
/// removal`, `removal of the vehicle`; the objects are [`REMOVAL_OBJECTS`]). A reading is matched
/// like a phrase and wins over every phrase it overlaps, before or after it: in `for ice storm`
/// neither `for ice` nor `ice` counts. It is kept in the findings with [`Signal::None`].
pub const NOT_ENFORCEMENT: &[&str] = &[
    "ice storm",
    "ice storms",
    "black ice",
    "dry ice",
    "ice on the road",
    "ice on the roads",
    "ice on the roadway",
    "ice on roadway",
    "ice on road",
    "ice on roads",
    "ice on the bridge",
    "ice on the highway",
    "ice on the sidewalk",
    "ice on the windshield",
    "snow and ice",
    "ice and snow",
    "sleet and ice",
    "freezing rain and ice",
    "snow and ice removal",
    "ice and snow removal",
    "ice warning",
    "ice advisory",
    "ice accumulation",
    "ice cream",
    "ice rink",
    "ice arena",
    "ice skating",
    "ice hockey",
    "ice machine",
    "ice maker",
    "ice chest",
    "ice pack",
    "ice cube",
    "ice cubes",
    "ice fishing",
    "immigration consequences",
    "immigration consequence",
    "immigration consequences of a plea",
    "immigration advisement",
    "immigration attorney",
    "immigration lawyer",
    "regardless of immigration status",
    "irrespective of immigration status",
    "u visa",
    "t visa",
    "u visa certification",
    "dhs grant",
    "dhs grants",
    "dhs office of grants",
    "homeland security grant",
    "homeland security grants",
    "homeland security grant program",
];

/// Things whose removal is not a person's: `X removal`, `removal of X`, `removal of the X` (and `a`,
/// `an`, `all`, `any`) are readings of [`NOT_ENFORCEMENT`] for each of these.
pub const REMOVAL_OBJECTS: &[&str] = &[
    "snow",
    "graffiti",
    "tree",
    "trees",
    "stump",
    "debris",
    "trash",
    "garbage",
    "junk",
    "litter",
    "waste",
    "brush",
    "weed",
    "weeds",
    "asbestos",
    "mold",
    "paint",
    "hair",
    "tattoo",
    "camera",
    "cameras",
    "device",
    "devices",
    "pole",
    "poles",
    "sign",
    "signs",
    "equipment",
    "hardware",
    "unit",
    "units",
    "vehicle",
    "vehicles",
    "car",
    "cars",
    "tow",
    "tire",
    "boot",
    "tag",
    "plate",
    "sticker",
    "encampment",
    "furniture",
    "property",
    "evidence",
    "body",
    "content",
    "post",
    "posts",
    "data",
    "record",
    "records",
    "name",
    "names",
    "file",
    "files",
    "account",
    "accounts",
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

impl Finding {
    /// Whether this is a reading of [`NOT_ENFORCEMENT`] (signal none: it only took its words out).
    pub fn is_reading(&self) -> bool {
        self.signal == Signal::None
    }
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
            .filter(|f| !f.negated && f.signal != Signal::None)
            .map(|f| format!("{}: \"{}\"", f.signal.as_str(), f.phrase))
            .collect()
    }
}

struct Phrase {
    tokens: Vec<&'static str>,
    text: &'static str,
    signal: Signal,
}

/// Every reading of [`NOT_ENFORCEMENT`], with those made from [`REMOVAL_OBJECTS`] (made once, kept
/// for the life of the process).
fn readings() -> impl Iterator<Item = &'static str> {
    static MADE: OnceLock<Vec<&'static str>> = OnceLock::new();
    let made = MADE.get_or_init(|| {
        let mut v: Vec<&'static str> = Vec::new();
        for o in REMOVAL_OBJECTS {
            v.push(Box::leak(format!("{o} removal").into_boxed_str()));
            v.push(Box::leak(format!("removal of {o}").into_boxed_str()));
            for a in ["the", "a", "an", "all", "any"] {
                v.push(Box::leak(format!("removal of {a} {o}").into_boxed_str()));
            }
        }
        v
    });
    NOT_ENFORCEMENT.iter().copied().chain(made.iter().copied())
}

fn index() -> &'static HashMap<&'static str, Vec<Phrase>> {
    static INDEX: OnceLock<HashMap<&'static str, Vec<Phrase>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map: HashMap<&'static str, Vec<Phrase>> = HashMap::new();
        let all = VOCABULARY.iter().copied().chain(readings().map(|r| (r, Signal::None)));
        for (text, signal) in all {
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
///
/// ASCII text is only lowercased and split. Other text is read as a person reads it first (see
/// [Disguised spellings](self#disguised-spellings)): NFKC, lowercase, every letter and digit still
/// not ASCII replaced by its ASCII look-alike, combining marks and invisible characters dropped.
pub fn tokens(text: &str) -> Vec<String> {
    if text.is_ascii() {
        words(text).map(str::to_ascii_lowercase).collect()
    } else {
        // fold lowercases everything.
        words(&fold(text)).map(str::to_owned).collect()
    }
}

/// The maximal runs of letters and digits.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty())
}

/// NFKC, lowercase, and each remaining non-ASCII character through [`fold_non_ascii`].
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut scratch = String::new();
    // Most non-ASCII text (accents, typographic quotes and dashes) is already NFKC: skip the
    // normalising iterator for it, and copy its ASCII stretches whole.
    if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        let mut rest = text;
        while !rest.is_empty() {
            let ascii = rest.bytes().position(|b| !b.is_ascii()).unwrap_or(rest.len());
            let start = out.len();
            out.push_str(&rest[..ascii]);
            out[start..].make_ascii_lowercase();
            rest = &rest[ascii..];
            if let Some(c) = rest.chars().next() {
                fold_non_ascii(c, &mut scratch, &mut out);
                rest = &rest[c.len_utf8()..];
            }
        }
    } else {
        for c in text.nfkc() {
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                fold_non_ascii(c, &mut scratch, &mut out);
            }
        }
    }
    out
}

/// Appends what a non-ASCII character `c` looks like: for a letter or digit, its lowercase mapped
/// to ASCII by [`fold_char`] where it has an ASCII look-alike; for anything else, `c` itself (it
/// separates tokens as before), unless it is invisible (a default-ignorable character or a
/// combining mark), which is dropped so that it cannot split a word.
fn fold_non_ascii(c: char, scratch: &mut String, out: &mut String) {
    for lower in c.to_lowercase() {
        if lower.is_ascii() {
            out.push(lower);
        } else if lower.is_alphanumeric() {
            fold_char(lower, c, scratch, out);
        } else if !is_combining_mark(lower) && skeleton(lower.encode_utf8(&mut [0u8; 4])).next().is_some() {
            out.push(lower);
        }
    }
}

/// Appends the ASCII look-alike of a non-ASCII letter or digit `c` (the lowercase of `original`):
/// its UTS #39 skeleton without combining marks, if that is ASCII letters and digits (lowercased);
/// else the skeleton of `original`, if that is; else `c` itself.
fn fold_char(c: char, original: char, scratch: &mut String, out: &mut String) {
    let mut buf = [0u8; 4];
    let ascii_alphanumeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    scratch.clear();
    scratch.extend(skeleton(c.encode_utf8(&mut buf)).filter(|m| !is_combining_mark(*m)));
    if scratch.is_empty() {
        // An invisible letter (the Hangul fillers).
        return;
    }
    if !ascii_alphanumeric(scratch) {
        if original == c {
            out.push(c);
            return;
        }
        scratch.clear();
        scratch.extend(skeleton(original.encode_utf8(&mut buf)).filter(|m| !is_combining_mark(*m)));
        if !ascii_alphanumeric(scratch) {
            out.push(c);
            return;
        }
    }
    scratch.make_ascii_lowercase();
    out.push_str(scratch);
}

/// Classifies a justification.
pub fn classify(text: &str) -> Classification {
    classify_tokens(&tokens(text))
}

/// Classifies text already split by [`tokens`] (lets a caller that runs several vocabularies over
/// the same text tokenize it once). Spelled-out letters (`i c e`) are joined here, so a caller that
/// splits ASCII text itself gets the same verdict as [`classify`].
pub fn classify_tokens<T: AsRef<str>>(tokens: &[T]) -> Classification {
    if tokens.windows(2).any(|w| is_letter(w[0].as_ref()) && is_letter(w[1].as_ref())) {
        classify_joined(&join_spelled(tokens))
    } else {
        classify_joined(tokens)
    }
}

/// Whether a token is a single letter.
fn is_letter(token: &str) -> bool {
    let mut chars = token.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if c.is_alphabetic())
}

/// The words that spelled-out letters may form: every all-letter token of the vocabulary of two
/// letters or more, and the length of the longest.
fn spellable() -> &'static (HashSet<&'static str>, usize) {
    static WORDS: OnceLock<(HashSet<&'static str>, usize)> = OnceLock::new();
    WORDS.get_or_init(|| {
        let words: HashSet<&'static str> = VOCABULARY
            .iter()
            .flat_map(|(text, _)| text.split(' '))
            .filter(|w| w.len() >= 2 && w.chars().all(|c| c.is_ascii_alphabetic()))
            .collect();
        let longest = words.iter().map(|w| w.len()).max().unwrap_or(0);
        (words, longest)
    })
}

/// Replaces, inside each run of single-letter tokens, the longest stretches that spell a
/// vocabulary word by that word (leftmost first); other tokens are kept.
fn join_spelled<T: AsRef<str>>(tokens: &[T]) -> Vec<Cow<'_, str>> {
    let (words, longest) = spellable();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let run = tokens[i..].iter().take_while(|t| is_letter(t.as_ref())).count();
        if run < 2 {
            out.push(Cow::Borrowed(tokens[i].as_ref()));
            i += 1;
            continue;
        }
        let end = i + run;
        while i < end {
            // The longest word spelled by two or more letters from tokens[i], bounded by the
            // longest word (so a long run costs linear time): (the index after it, the word).
            let mut spelled = String::new();
            let mut best = None;
            for (n, letter) in tokens[i..end.min(i + longest)].iter().enumerate() {
                spelled.push_str(letter.as_ref());
                if n > 0 && words.contains(spelled.as_str()) {
                    best = Some((i + n + 1, spelled.clone()));
                }
            }
            match best {
                Some((k, word)) => {
                    out.push(Cow::Owned(word));
                    i = k;
                }
                None => {
                    out.push(Cow::Borrowed(tokens[i].as_ref()));
                    i += 1;
                }
            }
        }
    }
    out
}

/// The phrase matcher over final tokens.
fn classify_joined<T: AsRef<str>>(tokens: &[T]) -> Classification {
    let index = index();
    let mut findings = Vec::new();
    let mut i = 0;
    let matches_at = |p: &Phrase, j: usize| {
        p.tokens.len() <= tokens.len() - j && p.tokens.iter().zip(&tokens[j..]).all(|(a, b)| *a == b.as_ref())
    };
    // The longest reading starting at j, if any.
    let reading_at = |j: usize| {
        index.get(tokens[j].as_ref()).and_then(|ps| ps.iter().find(|p| p.signal == Signal::None && matches_at(p, j)))
    };
    while i < tokens.len() {
        let matched = index.get(tokens[i].as_ref()).and_then(|phrases| {
            // A reading here wins; else the longest phrase that no reading overlaps.
            reading_at(i).or_else(|| {
                phrases
                    .iter()
                    .find(|p| matches_at(p, i) && (i + 1..i + p.tokens.len()).all(|j| reading_at(j).is_none()))
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
    fn look_alike_letters_read_as_what_they_look_like() {
        for (text, want) in [
            // Cyrillic І, С, Е.
            ("\u{406}\u{421}\u{415} asked us to run this plate", Signal::Strong),
            ("\u{406}\u{421}\u{415}", Signal::Weak),
            // Cyrillic е and о inside Latin words.
            ("subject is d\u{435}p\u{43E}rtable", Signal::Strong),
            ("\u{441}bp request", Signal::Strong),
            // Greek capitals: Ι and Ε have Latin prototypes only as capitals.
            ("\u{399}C\u{395} warrant", Signal::Strong),
            // Full-width, mathematical bold, circled.
            ("\u{FF29}\u{FF23}\u{FF25} asked us", Signal::Strong),
            ("\u{FF49}\u{FF43}\u{FF45}", Signal::Weak),
            ("\u{1D408}\u{1D402}\u{1D404} case", Signal::Strong),
            ("\u{24D8}\u{24D2}\u{24D4}", Signal::Weak),
            // Accents, combining marks and invisible characters.
            ("d\u{E9}p\u{F3}rt", Signal::Strong),
            ("I\u{337}C\u{337}E\u{337} warrant", Signal::Strong),
            ("de\u{200B}port", Signal::Strong),
            ("de\u{AD}portation", Signal::Strong),
            ("de\u{3164}port", Signal::Strong),
            // Punctuation stays punctuation, even where its skeleton is a letter (— is ー).
            ("ICE\u{2014}asked us", Signal::Strong),
            ("ICE \u{2014} asked us", Signal::Strong),
            // Unicode dashes still split tokens: I‐200 is the form.
            ("served I\u{2010}200", Signal::Strong),
        ] {
            assert_eq!(signal(text), want, "{text:?}");
        }
    }

    #[test]
    fn spelled_out_letters_read_as_the_word() {
        for (text, want) in [
            ("I.C.E. asked us", Signal::Strong),
            ("I.C.E.", Signal::Weak),
            ("i c e", Signal::Weak),
            ("for I. C. E.", Signal::Strong),
            ("a I.C.E. agent wants the plate", Signal::Strong),
            ("d-e-p-o-r-t", Signal::Strong),
            ("D.E.P.O.R.T.A.T.I.O.N", Signal::Strong),
            ("D E P O R T A T I O N hearing", Signal::Strong),
            ("d_e_t_a_i_n_e_r", Signal::Strong),
            ("E.R.O. case", Signal::Strong),
            ("C/B/P", Signal::Strong),
            // Cyrillic with dots, full-width with spaces.
            ("\u{406}.\u{421}.\u{415}. asked us", Signal::Strong),
            ("\u{FF24} \u{FF25} \u{FF30} \u{FF2F} \u{FF32} \u{FF34}", Signal::Strong),
        ] {
            assert_eq!(signal(text), want, "{text:?}");
        }
        let c = classify("I.C.E. asked us");
        assert_eq!(c.findings.len(), 1);
        assert_eq!(c.findings[0].phrase, "ice asked us");
    }

    #[test]
    fn single_letters_in_ordinary_text_stay_harmless() {
        for text in [
            "a b c",
            "options a, b, c and d",
            "J. R. R. Smith, 5 a.m., P.O. box",
            "i.e. the U.S. mail, e.g. a parcel",
            "see (a)(b)(c) of the order",
            "plan B or plan C",
            "I saw a car",
        ] {
            assert_eq!(signal(text), Signal::None, "{text:?}");
        }
        // A letter before a number is still the form, not part of a spelled word.
        assert_eq!(signal("a I-200 served"), Signal::Strong);
        assert_eq!(classify("a I-200 served").findings[0].phrase, "i 200");
        // A negation spelled out is not made (only vocabulary words are).
        assert!(!classify("n.o.t. ICE asked us").findings[0].negated);
    }

    #[test]
    fn ascii_tokens_are_unchanged_and_long_runs_are_cheap() {
        assert_eq!(tokens("ICE+ERO, 287(g)"), ["ice", "ero", "287", "g"]);
        // Folding only touches what is not ASCII.
        assert_eq!(tokens("Immigration m\u{E9}mo"), ["immigration", "memo"]);
        assert_eq!(tokens("We\u{2019}re \u{2014} \u{201C}ICE\u{201D}"), ["we", "re", "ice"]);
        let long = "a ".repeat(100_000) + "i c e";
        assert_eq!(signal(&long), Signal::Weak);
    }

    #[test]
    fn the_context_that_flips_a_word() {
        // Not enforcement: the weather, things called ice, the plea advisement, grants, things removed.
        for text in [
            "ice storm damage on Hwy 99",
            "crash due to black ice",
            "ice on the road near mile 12",
            "ICE ON ROADWAY, vehicle in ditch",
            "snow and ice removal on Main St",
            "theft of dry ice from the store",
            "burglary at the ice cream shop, case 25-1234",
            "defendant advised of immigration consequences of a plea",
            "immigration consequences advisement at arraignment",
            "U visa certification request for the victim",
            "DHS grant reporting for the ALPR cameras",
            "Homeland Security Grant Program award",
            "graffiti removal crew",
            "removal of the vehicle from the lot",
            "camera removal at 5th and Oak",
            "services provided regardless of immigration status",
            "for ice storm response",
        ] {
            assert_eq!(signal(text), Signal::None, "{text:?}");
        }
        // Enforcement: the same words where they mean it.
        for text in [
            "ICE hold on subject",
            "ICE detainer lodged",
            "HSI case 4412",
            "pending removal",
            "removal flight manifest",
            "287(g) screening",
            "ice storm, then ICE detainer on the driver",
            "black ice crash; driver has a removal order",
        ] {
            assert_eq!(signal(text), Signal::Strong, "{text:?}");
        }
        // A reading is kept in the findings, and is not evidence.
        let c = classify("crash due to black ice");
        assert_eq!(c.findings.len(), 1);
        assert!(c.findings[0].is_reading());
        assert_eq!(c.findings[0].phrase, "black ice");
        assert!(c.evidence().is_empty());
        // Ice alone (meth slang, or the agency) is still weak; the plea words alone do not flip it.
        assert_eq!(signal("ice on the dash, bag of ice"), Signal::Weak);
        assert_eq!(signal("immigration question about a plea"), Signal::Strong);
        assert_eq!(classify("ICE detainer").findings[0].phrase, "ice detainer");
    }

    #[test]
    fn longest_phrase_wins() {
        let c = classify("ICE ERO fugitive operations");
        assert_eq!(c.findings.len(), 1);
        assert_eq!(c.findings[0].phrase, "ice ero");
    }
}
