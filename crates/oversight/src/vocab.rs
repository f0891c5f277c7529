//! Whole-token phrase matching for the vocabularies that are not immigration (which is
//! `policy::justification`'s job): protected activity and vague reasons.
//!
//! Text is split by [`policy::justification::tokens`] (lowercase letters and digits), so phrases
//! match whole words only: "protest" matches "Protest near city hall" but not "protestant".

/// Protected activity named as a search purpose: political, religious or social activity, and
/// reproductive health care.
pub const PROTECTED: &[(&str, &str)] = &[
    ("protest", "political"),
    ("protests", "political"),
    ("protester", "political"),
    ("protesters", "political"),
    ("protestor", "political"),
    ("protestors", "political"),
    ("demonstration", "political"),
    ("demonstrators", "political"),
    ("demonstrator", "political"),
    ("rally", "political"),
    ("vigil", "political"),
    ("picket", "political"),
    ("boycott", "political"),
    ("activist", "political"),
    ("activists", "political"),
    ("no kings", "political"),
    ("first amendment", "political"),
    ("1st amendment", "political"),
    ("free speech", "political"),
    ("immigrant rights", "political"),
    ("church", "religious"),
    ("mosque", "religious"),
    ("synagogue", "religious"),
    ("worship", "religious"),
    ("religious", "religious"),
    ("prayer", "religious"),
    ("abortion", "reproductive health care"),
    ("planned parenthood", "reproductive health care"),
    ("reproductive", "reproductive health care"),
    ("gender affirming", "gender-affirming care"),
];

/// Words that say nothing auditable on their own ("investigation", "bolo", "suspect"). Tokens
/// beginning with `inv` are treated as spellings of "investigation" ("invetigation", "invest").
pub const VAGUE: &[&str] = &[
    "investigation",
    "investigations",
    "investigative",
    "criminal",
    "crim",
    "police",
    "patrol",
    "law",
    "enforcement",
    "agency",
    "assist",
    "case",
    "active",
    "bolo",
    "suspect",
    "query",
    "lookup",
    "check",
    "run",
    "other",
    "misc",
    "general",
    "na",
    "none",
    "info",
    "information",
    "intel",
    "intelligence",
    "follow",
    "up",
    "followup",
    "lead",
    "leads",
    "tip",
    "search",
    "searching",
    "ongoing",
    "per",
    "request",
    "requested",
    "the",
    "a",
    "an",
    "for",
    "of",
    "and",
    "to",
    "on",
    "in",
    "detective",
    "det",
    "ivestigation",
    "ivestigations",
    "inestigation",
    // An impression, not an offence ("suspicious vehicle", "susp. vehicle", "suspicious activity",
    // "plate check" with no plate, "case evidence" with no case), from the labelled sample
    // (tests/labels/README.md).
    "suspicious",
    "susp",
    "vehicle",
    "activity",
    "plate",
    "evidence",
    "call",
    "pd",
    // Eugene's stock "Daytime search for best result": a search tip, not a purpose.
    "daytime",
    "best",
    "result",
];

/// Finds the phrases of `vocab` in `tokens`, longest first at each position, each reported once.
pub fn find<'v, T: AsRef<str>>(tokens: &[T], vocab: &'v [(&'v str, &'v str)]) -> Vec<(&'v str, &'v str)> {
    let mut found: Vec<(&str, &str)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i].as_ref().as_bytes();
        let mut best: Option<(usize, (&str, &str))> = None;
        for &(phrase, label) in vocab {
            // The phrase's first word is this token: a prefix test, no splitting.
            let p = phrase.as_bytes();
            if p.first() != token.first()
                || !(p.starts_with(token) && (p.len() == token.len() || p[token.len()] == b' '))
            {
                continue;
            }
            let n = phrase.split(' ').count();
            if n <= tokens.len() - i
                && phrase.split(' ').zip(&tokens[i..]).all(|(a, b)| a == b.as_ref())
                && best.is_none_or(|(m, _)| n > m)
            {
                best = Some((n, (phrase, label)));
            }
        }
        match best {
            Some((n, hit)) => {
                if !found.contains(&hit) {
                    found.push(hit);
                }
                i += n;
            }
            None => i += 1,
        }
    }
    found
}

/// [`find`] written the plain way (split every phrase at every position): the reference the
/// tests hold the fast path to.
pub fn find_reference<'v>(tokens: &[String], vocab: &'v [(&'v str, &'v str)]) -> Vec<(&'v str, &'v str)> {
    let mut found: Vec<(&str, &str)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let mut best: Option<(usize, (&str, &str))> = None;
        for &(phrase, label) in vocab {
            let words: Vec<&str> = phrase.split(' ').collect();
            if words.len() <= tokens.len() - i
                && words.iter().zip(&tokens[i..]).all(|(a, b)| a == b)
                && best.is_none_or(|(m, _)| words.len() > m)
            {
                best = Some((words.len(), (phrase, label)));
            }
        }
        match best {
            Some((n, hit)) => {
                if !found.contains(&hit) {
                    found.push(hit);
                }
                i += n;
            }
            None => i += 1,
        }
    }
    found
}

/// Whether a token is an identifier (a case number, incident number or plate): three or more digits.
pub fn is_identifier(token: &str) -> bool {
    token.bytes().filter(u8::is_ascii_digit).count() >= 3
}

/// Whether a reason, as tokens, says nothing auditable: empty, or only vague words, and no identifier.
pub fn is_vague<T: AsRef<str>>(tokens: &[T]) -> bool {
    // The vague words by length: a token is compared with the few words of its length only.
    static BY_LEN: std::sync::OnceLock<Vec<Vec<&'static str>>> = std::sync::OnceLock::new();
    let by_len = BY_LEN.get_or_init(|| {
        let mut v = vec![Vec::new(); VAGUE.iter().map(|w| w.len()).max().unwrap_or(0) + 1];
        for w in VAGUE {
            v[w.len()].push(*w);
        }
        v
    });
    tokens.iter().all(|t| {
        let t = t.as_ref();
        t.starts_with("inv") || by_len.get(t.len()).is_some_and(|ws| ws.contains(&t))
    })
}

/// [`is_vague`] by a linear scan of [`VAGUE`]: the reference for the tests.
pub fn is_vague_reference(tokens: &[String]) -> bool {
    tokens.iter().all(|t| VAGUE.contains(&t.as_str()) || t.starts_with("inv"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy::justification::tokens;

    #[test]
    fn protected_phrases_match_whole_words() {
        assert_eq!(find(&tokens("Protest at city hall"), PROTECTED), vec![("protest", "political")]);
        assert!(find(&tokens("protestant neighbourhood burglary"), PROTECTED).is_empty());
        assert_eq!(
            find(&tokens("Planned Parenthood clinic"), PROTECTED),
            vec![("planned parenthood", "reproductive health care")]
        );
        assert_eq!(find(&tokens("NO KINGS rally"), PROTECTED).len(), 2);
    }

    #[test]
    fn vague_reasons() {
        for r in
            ["investigation", "Investigative+", "INV", "invetigation", "criminal investigation", "BOLO", "", "suspect"]
        {
            assert!(is_vague(&tokens(r)), "{r:?}");
        }
        for r in ["Suspicious Vehicle", "susp. vehicle", "plate check", "PD Assist", "Daytime search for best result"] {
            assert!(is_vague(&tokens(r)), "{r:?}");
        }
        for r in [
            "stolen vehicle",
            "investigation 25-138337",
            "Property Crime",
            "missing person",
            "inv 391NCQ",
            "hit and run",
            "suspicious vehicle 7ABC123",
            "stolen plate",
        ] {
            let t = tokens(r);
            assert!(!is_vague(&t) || t.iter().any(|t| is_identifier(t)), "{r:?}");
        }
    }
}
