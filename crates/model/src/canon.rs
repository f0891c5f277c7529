//! The canonical form of a request's subject: one spelling for one identifier, so that the hub looks
//! a subject up in a source and hashes it into the ledger the same way however the requester typed
//! it (`" 7abc-123 "`, `"７ＡＢＣ１２３"` and `"7ABC123"` are one plate).
//!
//! [`subject`] applies, in order:
//! 1. Unicode NFKC (compatibility composition): full-width letters and digits become ASCII, the
//!    no-break and ideographic spaces become spaces, ligatures are split (`ﬁ` is `fi`), composed
//!    and decomposed accents agree (`é` is one character). ASCII text skips this step (it is already
//!    NFKC).
//! 2. Upper case, by [`str::to_uppercase`] (Unicode's default, locale-free upper-case mapping).
//!    Upper case because it is what the sources hold for the identifiers this matters most for:
//!    plates and licence numbers are printed and stored in capitals (`7ABC123`, `D1234567`), so the
//!    canonical form of those is the form a person reads off the record. Then NFKC again, because
//!    upper-casing can leave a string that is not normalised (`ΐ` becomes `Ϊ́`, three characters).
//! 3. Invisible characters (Unicode's Default_Ignorable_Code_Point: soft hyphen, zero-width
//!    space, zero-width joiner and non-joiner, word joiner, byte-order mark, variation selectors,
//!    bidirectional controls, ...) are dropped: they change the bytes but not what anyone reads.
//! 4. Whitespace (Unicode White_Space) is trimmed at both ends and every run of it inside becomes
//!    one ASCII space; for the kinds in [`SEPARATOR_FREE_KINDS`] (`plate`, `license_number`)
//!    whitespace and dashes are dropped entirely instead.
//!
//! The steps run until the value no longer changes (once for nearly every value; a second time
//! when removing a separator lets two characters compose, `"E-\u{301}"` becoming `É`), so the
//! result is a fixed point: `subject(kind, &subject(kind, v)) == subject(kind, v)`.
//!
//! What this does **not** do:
//! - It is not Unicode case folding (`toCasefold`, which maps to lower case). Upper-casing agrees
//!   with it on nearly every letter but not all: `ß` becomes `SS` while the capital `ẞ` stays `ẞ`;
//!   the Turkish dotted capital `İ` stays distinct from `I`, while `ı` and `i` both become `I`.
//!   Sources that fold differently may still miss a match for such names; they never get a false one.
//! - It does not map look-alike characters across scripts (a plate typed with the Cyrillic `А`,
//!   `В`, `С` is a different string from the Latin one): a canonical form decides identity, and
//!   people named in Cyrillic are not people named in Latin letters. Such a subject matches no
//!   Latin record, so nothing is released for it.
//! - It does not remove accents (`José` stays `JOSÉ`), dots (`J. DOE`) or other punctuation, and it
//!   does not reorder names.
//!
//! ```
//! use model::canon;
//! assert_eq!(canon::subject("plate", " 7abc-123 "), "7ABC123");
//! assert_eq!(canon::subject("plate", "７ＡＢＣ１２３"), "7ABC123");
//! assert_eq!(canon::subject("name", "  maria   de la  CRUZ "), "MARIA DE LA CRUZ");
//! assert_eq!(canon::subject("license_number", "d123-4567"), "D1234567");
//! ```

#![warn(missing_docs)]

use unicode_normalization::UnicodeNormalization;

/// The subject kinds whose values are identifiers printed with spaces or dashes that carry no
/// meaning, so [`subject`] drops every whitespace and dash character from them:
/// - `plate`: `7ABC 123`, `7ABC-123` and `7ABC123` are one plate (the separators are decoration
///   on the physical plate, and plate readers and registries store them without);
/// - `license_number`: driver licence numbers are printed with dashes or spaces by some states
///   (`D123-4567`, `123 456 789`) and stored without by the issuing DMV.
///
/// Other kinds (`name`, ...) keep one space between words: `DE LA CRUZ` is not `DELACRUZ`.
pub const SEPARATOR_FREE_KINDS: &[&str] = &["plate", "license_number"];

/// Whether [`subject`] drops spaces and dashes from values of this kind (it is in
/// [`SEPARATOR_FREE_KINDS`]).
pub fn drops_separators(kind: &str) -> bool {
    SEPARATOR_FREE_KINDS.contains(&kind)
}

/// The canonical form of a subject's `value` for its `kind` (see the [module documentation](self)):
/// NFKC, upper case, invisible characters dropped, whitespace trimmed and collapsed to single ASCII
/// spaces, and for [`SEPARATOR_FREE_KINDS`] all whitespace and dashes dropped.
///
/// Idempotent: canonicalising a canonical value returns it unchanged.
pub fn subject(kind: &str, value: &str) -> String {
    let drop = drops_separators(kind);
    if value.is_ascii() {
        // ASCII is already NFKC, upper-casing it stays ASCII, and it has no invisible characters
        // (controls other than whitespace are kept, as in the general path): one pass is final.
        return separate(value.bytes().map(|b| b.to_ascii_uppercase() as char), drop);
    }
    let mut current = pass(value, drop);
    // Each pass normalises; a second one changes the value only when dropping or collapsing made
    // characters adjacent that compose. Bounded, so that no input can loop; the tests check that
    // real and generated inputs reach the fixed point well within it.
    for _ in 0..4 {
        let next = pass(&current, drop);
        if next == current {
            break;
        }
        current = next;
    }
    current
}

/// One pass of the general (non-ASCII) path.
fn pass(value: &str, drop: bool) -> String {
    let upper = value.nfkc().collect::<String>().to_uppercase();
    separate(upper.nfkc().filter(|&c| !is_default_ignorable(c)), drop)
}

/// Trims and collapses whitespace (or, with `drop`, removes it and every dash).
fn separate(chars: impl Iterator<Item = char>, drop: bool) -> String {
    let mut out = String::new();
    let mut pending_space = false;
    for c in chars {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if drop && is_dash(c) {
            continue;
        }
        if pending_space && !drop {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    out
}

/// Unicode dash punctuation (General_Category Pd, Unicode 16) that NFKC leaves in place, and the
/// minus sign (`−`, Sm), which people type for a dash. The full-width and small dashes NFKC maps to
/// these are listed too, so the function holds on text that was not normalised.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{058A}' | '\u{05BE}' | '\u{1400}' | '\u{1806}' | '\u{2010}'
            ..='\u{2015}'
                | '\u{2212}'
                | '\u{2E17}'
                | '\u{2E1A}'
                | '\u{2E3A}'
                | '\u{2E3B}'
                | '\u{2E40}'
                | '\u{2E5D}'
                | '\u{301C}'
                | '\u{3030}'
                | '\u{30A0}'
                | '\u{FE31}'
                | '\u{FE32}'
                | '\u{FE58}'
                | '\u{FE63}'
                | '\u{FF0D}'
                | '\u{10D6E}'
                | '\u{10EAD}'
    )
}

/// Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 16): characters that
/// render as nothing.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plates_in_any_spelling_are_one_plate() {
        for typed in [
            "7ABC123",
            " 7abc123 ",
            "7ABC-123",
            "7abc 123",
            "７ＡＢＣ１２３",
            "７ａｂｃ－１２３",
            "7ABC\u{2013}123",
            "7ABC\u{2212}123",
            "7ABC\u{2011}123",
            "7ABC\u{00A0}123",
            "7ABC\u{3000}123",
            "7\u{200B}ABC123",
            "\t7 - A B C - 1 2 3\n",
        ] {
            assert_eq!(subject("plate", typed), "7ABC123", "{typed:?}");
        }
    }

    #[test]
    fn license_numbers_drop_separators() {
        assert_eq!(subject("license_number", "d123-4567"), "D1234567");
        assert_eq!(subject("license_number", " 123 456 789 "), "123456789");
        assert!(drops_separators("license_number") && drops_separators("plate"));
        assert!(!drops_separators("name") && !drops_separators("face_image"));
    }

    #[test]
    fn names_keep_one_space_between_words() {
        assert_eq!(subject("name", "  maria   de la  CRUZ "), "MARIA DE LA CRUZ");
        assert_eq!(subject("name", "maria\u{3000}de\u{00A0}la\t\ncruz"), "MARIA DE LA CRUZ");
        // Dashes and dots are part of names.
        assert_eq!(subject("name", "jean-luc  o'neil"), "JEAN-LUC O'NEIL");
        assert_eq!(subject("name", "J. Doe"), "J. DOE");
        // Accents are kept; composed and decomposed spellings agree.
        assert_eq!(subject("name", "José"), "JOSÉ");
        assert_eq!(subject("name", "Jose\u{301}"), "JOSÉ");
        // Full-width and ligatures.
        assert_eq!(subject("name", "Ｊａｎｅ ﬁeld"), "JANE FIELD");
        // Invisible characters vanish; a name of only whitespace is empty.
        assert_eq!(subject("name", "Ja\u{00AD}ne\u{200D}"), "JANE");
        assert_eq!(subject("name", " \u{3000}\t"), "");
        assert_eq!(subject("plate", ""), "");
    }

    #[test]
    fn what_upper_case_does_not_fold() {
        assert_eq!(subject("name", "Straße"), "STRASSE");
        assert_eq!(subject("name", "STRA\u{1E9E}E"), "STRA\u{1E9E}E");
        assert_eq!(subject("name", "ıi"), "II");
        assert_eq!(subject("name", "İ"), "İ");
        // Look-alikes from other scripts stay what they are.
        assert_ne!(subject("plate", "7\u{410}\u{412}\u{421}123"), "7ABC123");
    }

    #[test]
    fn upper_casing_that_denormalises_is_normalised_again() {
        // U+0390 upper-cases to U+0399 U+0308 U+0301, which NFC composes to U+03AA U+0301.
        let once = subject("name", "\u{390}");
        assert_eq!(subject("name", &once), once);
        assert_eq!(once, "\u{3AA}\u{301}");
    }

    #[test]
    fn dropping_a_separator_that_lets_characters_compose_reaches_the_fixed_point() {
        assert_eq!(subject("plate", "E-\u{301}"), "\u{C9}");
        assert_eq!(subject("plate", "e \u{301}1"), "\u{C9}1");
    }

    #[test]
    fn table_of_values_is_idempotent() {
        for kind in ["plate", "license_number", "name", "face_image"] {
            for v in
                ["7abc-123", "７ＡＢＣ１２３", "  maria   de la  CRUZ ", "Straße", "\u{390}", "E-\u{301}", "ǅemal", "ﬀ"]
            {
                let once = subject(kind, v);
                assert_eq!(subject(kind, &once), once, "{kind} {v:?}");
            }
        }
    }

    /// The kinds the property tests draw from.
    fn kinds() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["plate", "license_number", "name"])
    }

    /// Any printable text, or text made of the characters that interact: ASCII, spaces, dashes,
    /// combining marks, full-width letters, letters whose upper case is special, invisible ones.
    fn values() -> impl Strategy<Value = String> {
        prop_oneof![
            "[\\PC\\s\\p{Cf}]{0,24}",
            "[a-zA-Z0-9 \\-\u{301}\u{308}\u{2013}\u{2212}\u{A0}\u{3000}\u{FF21}-\u{FF3A}\u{DF}\u{130}\u{131}\u{390}\u{1C5}\u{200B}\u{AD}]{0,16}",
        ]
    }

    proptest! {
        #[test]
        fn canonical_form_is_a_fixed_point(kind in kinds(), v in values()) {
            let once = subject(kind, &v);
            prop_assert_eq!(subject(kind, &once), once.clone());
            prop_assert_eq!(once.trim(), once.as_str());
            prop_assert!(!once.contains("  "));
            if drops_separators(kind) {
                prop_assert!(!once.chars().any(|c| c.is_whitespace() || is_dash(c)), "{:?}", once);
            }
        }

        #[test]
        fn ascii_fast_path_agrees_with_the_general_path(kind in kinds(), v in "[ -~\\t\\n]{0,24}") {
            prop_assert_eq!(subject(kind, &v), pass(&v, drops_separators(kind)));
        }
    }
}
