//! What the public portal and the console share: the page layout, the language of a page, the
//! assets embedded in the binary, HTML form bodies and cookies.
//!
//! Pages are rendered on the server (maud, which escapes every value) and work without
//! JavaScript; the only script is `verify.js`, which checks a receipt in the reader's browser.
//! Every page is sent with a Content-Security-Policy of `default-src 'self'` (no inline script or
//! style, nothing from another origin), and the assets with long-lived caching under a name that
//! carries their hash.

pub mod i18n;

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use sha2::{Digest, Sha256};

pub use i18n::{Lang, Words};

/// The name of the cookie that remembers the reader's language.
pub const LANG_COOKIE: &str = "fg_lang";

/// The Content-Security-Policy of every page.
pub const CSP: &str =
    "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; object-src 'none'";

/// An asset embedded in the binary.
pub struct Asset {
    /// Its name under `/assets/`, with the first 12 hex digits of its SHA-256 (`site.3fa2c1d0e9b7.css`).
    pub name: String,
    /// Its bytes.
    pub body: &'static [u8],
    /// Its content type.
    pub content_type: &'static str,
}

fn asset(stem: &str, ext: &str, body: &'static [u8], content_type: &'static str) -> Asset {
    let hash = hex::encode(&Sha256::digest(body)[..6]);
    Asset { name: format!("{stem}.{hash}.{ext}"), body, content_type }
}

/// The stylesheet.
pub static CSS: LazyLock<Asset> =
    LazyLock::new(|| asset("site", "css", include_bytes!("../../assets/site.css"), "text/css; charset=utf-8"));
/// The in-browser receipt check (an ES module).
pub static VERIFY_JS: LazyLock<Asset> =
    LazyLock::new(|| asset("verify", "js", include_bytes!("../../assets/verify.js"), "text/javascript; charset=utf-8"));

/// `GET /assets/{name}`: an embedded asset, cached for a year (its name changes with its content).
pub async fn serve_asset(Path(name): Path<String>) -> Response {
    for a in [&*CSS, &*VERIFY_JS] {
        if a.name == name {
            let mut r = (StatusCode::OK, a.body).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.content_type));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            return r;
        }
    }
    crate::problem::Problem::not_found(format!("no asset {name:?}")).into_response()
}

/// `GET /favicon.ico`: no icon (204, cached for a day), so browsers stop asking.
pub async fn no_icon() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    r
}

/// The `name=value` pairs of a query string or a form body (`application/x-www-form-urlencoded`),
/// in order; a name may repeat.
pub fn pairs(text: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(text.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// The first value of `name` among `pairs`.
pub fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The cookies a request carries, by name.
pub fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for v in headers.get_all(header::COOKIE) {
        for part in v.to_str().unwrap_or("").split(';') {
            if let Some((k, v)) = part.trim().split_once('=') {
                out.entry(k.trim().to_string()).or_insert_with(|| v.trim().to_string());
            }
        }
    }
    out
}

/// The page's language: `?lang=` if given (remembered in a cookie), else the cookie, else the
/// first of English and Spanish in `Accept-Language` by preference, else English. Returns the
/// language and whether to remember it.
pub fn negotiate(headers: &HeaderMap, query: &[(String, String)]) -> (Lang, bool) {
    if let Some(l) = value(query, "lang").and_then(Lang::from_code) {
        return (l, true);
    }
    if let Some(l) = cookies(headers).get(LANG_COOKIE).and_then(|c| Lang::from_code(c)) {
        return (l, false);
    }
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut best: Option<(f32, Lang)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let Some(lang) = parts.next().and_then(Lang::from_code) else { continue };
        let q = parts.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    (best.map_or(Lang::En, |(_, l)| l), false)
}

/// The language of a page asked for with `query` (see [`negotiate`]) and whether to remember it.
pub fn lang_of(headers: &HeaderMap, query: Option<&str>) -> (Lang, bool) {
    negotiate(headers, &pairs(query.unwrap_or("")))
}

/// Who is logged in to the console, as the layout shows them.
pub struct Viewer<'a> {
    /// User id.
    pub user: &'a str,
    /// Agency id.
    pub agency: &'a str,
    /// Role.
    pub role: &'a str,
    /// The session's CSRF token (for the log-out form).
    pub csrf: &'a str,
}

/// One page: its language, title, path (for the language switch) and who is logged in.
pub struct Page<'a> {
    /// The language.
    pub lang: Lang,
    /// The title (also the `<h1>` unless the body has its own).
    pub title: String,
    /// The path of the page, without query (the language switch links to it).
    pub path: &'a str,
    /// The console user, on console pages.
    pub viewer: Option<Viewer<'a>>,
    /// Scripts to load (asset names under `/assets/`).
    pub scripts: Vec<&'a str>,
}

impl Page<'_> {
    /// The whole page around `body`: skip link, header with navigation and language switch,
    /// `main`, footer.
    pub fn render(&self, body: Markup) -> Markup {
        let l = self.lang;
        let other = l.other();
        html! {
            (DOCTYPE)
            html lang=(l.code()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title) " · FusionGuard" }
                    link rel="stylesheet" href={ "/assets/" (CSS.name) };
                    @for s in &self.scripts {
                        script type="module" src={ "/assets/" (s) } {}
                    }
                }
                body {
                    a.skip href="#main" { (l.t("skip")) }
                    header.site {
                        div.bar {
                            a.brand href="/" { "FusionGuard" }
                            a.lang href={ (self.path) "?lang=" (other.code()) } lang=(other.code()) hreflang=(other.code()) {
                                (other.name())
                            }
                        }
                        nav aria-label=(l.t("nav.main")) {
                            ul {
                                li { a href="/" { (l.t("nav.home")) } }
                                li { a href="/transparency" { (l.t("nav.transparency")) } }
                                li { a href="/agencies" { (l.t("nav.agencies")) } }
                                li { a href="/laws" { (l.t("nav.laws")) } }
                                li { a href="/verify" { (l.t("nav.verify")) } }
                                li { a href="/console" { (l.t("nav.console")) } }
                            }
                        }
                        @if let Some(v) = &self.viewer {
                            div.who {
                                span { (l.f("console.signed_in", &[v.user, v.agency, v.role])) }
                                form method="post" action="/console/logout" {
                                    input type="hidden" name="csrf" value=(v.csrf);
                                    button type="submit" { (l.t("logout")) }
                                }
                            }
                        }
                    }
                    main #main tabindex="-1" { (body) }
                    footer.site {
                        p { (l.t("footer.text")) " " a href="/ledger/checkpoint" { (l.t("footer.ledger")) } }
                    }
                }
            }
        }
    }
}

/// An HTML answer: the page with its status and the headers every page carries (CSP,
/// `nosniff`, no referrer, `Content-Language`). `private` pages (the console, anything that may
/// show released data) are never stored by the browser (`no-store`); public ones are revalidated.
pub fn respond(status: StatusCode, lang: Lang, remember_lang: bool, private: bool, page: Markup) -> Response {
    let mut r = (status, page.into_string()).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(if private { "no-store" } else { "no-cache" }));
    language_headers(h, lang, remember_lang);
    r
}

/// The headers of a page in `lang`: `Content-Language`, `Vary` on what chose it, and, when asked
/// for with `?lang=` (`remember`), the cookie that keeps it.
pub fn language_headers(h: &mut HeaderMap, lang: Lang, remember: bool) {
    h.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.code()));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Language, Cookie"));
    if remember {
        let cookie = format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code());
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.append(header::SET_COOKIE, v);
        }
    }
}

/// A page that says what went wrong, with a link home.
pub fn error_page(status: StatusCode, lang: Lang, path: &str, message: &str) -> Response {
    let page = Page { lang, title: lang.t("error.title").to_string(), path, viewer: None, scripts: vec![] };
    let body = html! {
        h1 { (lang.t("error.title")) }
        p.error role="alert" { (message) }
        p { a href="/" { (lang.t("error.back")) } }
    };
    respond(status, lang, false, false, page.render(body))
}

/// A table of (label, number) rows with a caption for screen readers (the heading above it says
/// the same to the eye): the accessible form of a few totals.
pub fn totals_table(lang: Lang, caption: &str, rows: &[(&str, u64)]) -> Markup {
    html! {
        table.totals {
            caption.visually-hidden { (caption) }
            thead { tr { th scope="col" { (lang.t("count.measure")) } th scope="col" { (lang.t("count.value")) } } }
            tbody {
                @for (label, n) in rows {
                    tr { th scope="row" { (label) } td.num { (n) } }
                }
            }
        }
    }
}

/// Text with line breaks kept, for preformatted blocks (Cedar), escaped.
pub fn pre(text: &str) -> Markup {
    html! { pre { code { (text) } } }
}

/// Raw, already-safe markup (the transparency report's own SVG), for embedding.
pub fn trusted(markup: String) -> PreEscaped<String> {
    PreEscaped(markup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_comes_from_the_query_then_the_cookie_then_the_browser() {
        let mut h = HeaderMap::new();
        assert_eq!(negotiate(&h, &[]), (Lang::En, false));
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("fr-FR, es-MX;q=0.8, en;q=0.5"));
        assert_eq!(negotiate(&h, &[]), (Lang::Es, false));
        h.insert(header::COOKIE, HeaderValue::from_static("fg_lang=en; other=1"));
        assert_eq!(negotiate(&h, &[]), (Lang::En, false));
        assert_eq!(negotiate(&h, &pairs("lang=es")), (Lang::Es, true));
        assert_eq!(negotiate(&h, &pairs("lang=xx")), (Lang::En, false));
    }

    #[test]
    fn pages_escape_what_they_are_given() {
        let page = Page { lang: Lang::En, title: "<script>".into(), path: "/x", viewer: None, scripts: vec![] };
        let text = page.render(html! { p { "<b>" } }).into_string();
        assert!(text.contains("&lt;script&gt;") && text.contains("&lt;b&gt;") && !text.contains("<script>"));
        assert!(text.starts_with("<!DOCTYPE html><html lang=\"en\">"));
    }

    #[test]
    fn asset_names_carry_their_hash() {
        assert!(
            CSS.name.starts_with("site.") && CSS.name.ends_with(".css") && CSS.name.len() == "site..css".len() + 12
        );
        assert!(VERIFY_JS.name.starts_with("verify."));
    }
}
