//! The languages FusionGuard's pages and reports are written in, and filling in a message's
//! arguments. Each crate keeps its own catalogue of messages (the hub's pages, the transparency
//! report's); the languages and the way a message is filled in are one.

/// A language of the pages and the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// Both languages.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    /// The BCP 47 code (`en`, `es`), as a page's `lang` attribute and the `lang` cookie write it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// The language of a code (`en`, `es`, or a tag such as `es-MX`), if it is one of ours.
    pub fn from_code(code: &str) -> Option<Self> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }

    /// The other language (the one a language switch offers).
    pub fn other(self) -> Self {
        match self {
            Lang::En => Lang::Es,
            Lang::Es => Lang::En,
        }
    }

    /// The language's own name, as a language switch shows it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
        }
    }

    /// Of a message's English and Spanish texts, the one in this language.
    pub fn pick<'a>(self, en: &'a str, es: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Es => es,
        }
    }
}

/// `template` with `{0}`, `{1}`, ... replaced by `args`, in one pass (an argument that itself
/// holds `{1}` is left as it is; a placeholder with no argument stays as written).
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let arg = after.find('}').and_then(|j| after[..j].parse::<usize>().ok().map(|n| (j, n)));
        match arg {
            Some((j, n)) if n < args.len() => {
                out.push_str(args[n]);
                rest = &after[j + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_filling_in() {
        assert_eq!(Lang::from_code("es-MX"), Some(Lang::Es));
        assert_eq!(Lang::from_code(" EN_gb"), Some(Lang::En));
        assert_eq!((Lang::from_code("fr"), Lang::default().code()), (None, "en"));
        assert_eq!(Lang::Es.other().name(), "English");
        assert_eq!(Lang::ALL.map(|l| l.pick("a", "b")), ["a", "b"]);
        assert_eq!(fill("{1} de {0}{2}", &["x{1}", "y"]), "y de x{1}{2}");
        assert_eq!(fill("{} {x} {", &["a"]), "{} {x} {");
    }
}
