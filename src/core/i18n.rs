//! The message catalogues (`extension/_locales/<locale>/messages.json`) read natively, to
//! render view trees in tests and the command line exactly as `chrome.i18n.getMessage`
//! fills placeholders, and to check that every locale has every key the views use.
use crate::core::ui::{fmt_plain, Arg, Text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One locale's messages: key → (message, placeholder name → content such as `$1`).
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub messages: BTreeMap<String, (String, BTreeMap<String, String>)>,
}

/// The locales the extension ships, with their catalogues (compiled in for native use).
pub const LOCALES: [(&str, &str); 4] = [
    ("en", include_str!("../../extension/_locales/en/messages.json")),
    ("pt_BR", include_str!("../../extension/_locales/pt_BR/messages.json")),
    ("es", include_str!("../../extension/_locales/es/messages.json")),
    ("hi", include_str!("../../extension/_locales/hi/messages.json")),
];

impl Catalog {
    pub fn parse(json: &str) -> Result<Catalog, String> {
        let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let obj = v.as_object().ok_or("a catalogue is a JSON object")?;
        let mut messages = BTreeMap::new();
        for (k, m) in obj {
            let text = m
                .get("message")
                .and_then(|t| t.as_str())
                .ok_or_else(|| format!("{k}: no message"))?
                .to_string();
            let mut ph = BTreeMap::new();
            for (name, p) in m.get("placeholders").and_then(|p| p.as_object()).into_iter().flatten()
            {
                let content = p
                    .get("content")
                    .and_then(|c| c.as_str())
                    .ok_or_else(|| format!("{k}.{name}: no content"))?;
                // chrome.i18n matches placeholder names case-insensitively.
                ph.insert(name.to_ascii_lowercase(), content.to_string());
            }
            messages.insert(k.clone(), (text, ph));
        }
        Ok(Catalog { messages })
    }

    /// The locale's catalogue (panics only on a catalogue the tests reject anyway).
    pub fn locale(name: &str) -> Catalog {
        let json = LOCALES.iter().find(|(n, _)| *n == name).map(|(_, j)| *j).unwrap_or("{}");
        Catalog::parse(json).unwrap_or_default()
    }

    /// The catalogue `chrome.i18n` picks for a UI language: the exact locale (`pt-BR` →
    /// `pt_BR`), then its language (`es-419` → `es`), then the default locale (`en`).
    pub fn for_ui_language(lang: &str) -> Catalog {
        let exact = lang.replace('-', "_");
        let language = exact.split('_').next().unwrap_or("");
        let pick = [exact.as_str(), language]
            .into_iter()
            .find_map(|want| LOCALES.iter().find(|(n, _)| n.eq_ignore_ascii_case(want)))
            .map_or("en", |(n, _)| *n);
        Catalog::locale(pick)
    }

    /// `getMessage(key, args)`: `$NAME$` → its placeholder's content, `$n` → argument n,
    /// `$$` → `$`. A missing key renders as the key, as the shell does.
    pub fn get(&self, key: &str, args: &[String]) -> String {
        let Some((msg, ph)) = self.messages.get(key) else { return key.to_string() };
        let expanded = replace_named(msg, ph);
        fill_numbered(&expanded, args)
    }

    /// Render a text with formatted values in their locale-free form.
    pub fn render(&self, t: &Text) -> String {
        match t {
            Text::Data(s) => crate::core::view::clean_text(s),
            Text::Fmt(f) => fmt_plain(f),
            Text::Msg { key, args } => {
                let args: Vec<String> = args.iter().map(|a| self.arg(a)).collect();
                self.get(key, &args)
            }
        }
    }

    fn arg(&self, a: &Arg) -> String {
        match a {
            Arg::Data(s) => crate::core::view::clean_text(s),
            Arg::Fmt(f) => fmt_plain(f),
            Arg::Text(t) => self.render(t),
        }
    }

    /// The highest `$n` a message can use (its placeholders' and its own).
    pub fn arity(&self, key: &str) -> Option<usize> {
        let (msg, ph) = self.messages.get(key)?;
        let mut max = 0;
        for s in ph.values().map(String::as_str).chain([msg.as_str()]) {
            let b = s.as_bytes();
            let mut i = 0;
            while i + 1 < b.len() {
                if b[i] == b'$' && b[i + 1] == b'$' {
                    i += 2;
                    continue;
                }
                if b[i] == b'$' && b[i + 1].is_ascii_digit() {
                    max = max.max(usize::from(b[i + 1] - b'0'));
                }
                i += 1;
            }
        }
        Some(max)
    }

    /// The `$NAME$` placeholders a message uses.
    pub fn named(&self, key: &str) -> Vec<String> {
        let Some((msg, _)) = self.messages.get(key) else { return vec![] };
        let mut out = vec![];
        let mut rest = msg.as_str();
        while let Some(i) = rest.find('$') {
            let after = &rest[i + 1..];
            match after.find('$') {
                Some(j)
                    if j > 0
                        && after[..j].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
                {
                    out.push(after[..j].to_ascii_lowercase());
                    rest = &after[j + 1..];
                }
                _ => rest = after,
            }
        }
        out
    }
}

/// A sentence for the rep as a message key and its arguments, kept serializable so the worker
/// can store it (a setup report) or send it, and the page that shows it renders it in the
/// browser's language. Arguments are data (a CRM's name, an error code it sent) or sentences
/// of their own (a translated word, a line inside a notice).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sentence {
    pub key: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Part {
    Data(String),
    Sentence(Sentence),
}

impl From<&str> for Part {
    fn from(s: &str) -> Self {
        Part::Data(s.to_string())
    }
}

impl From<String> for Part {
    fn from(s: String) -> Self {
        Part::Data(s)
    }
}

impl From<Sentence> for Part {
    fn from(s: Sentence) -> Self {
        Part::Sentence(s)
    }
}

/// A sentence from its key and arguments (`say("setupNoAnswer", vec![crm.into(), ...])`).
pub fn say(key: &str, args: Vec<Part>) -> Sentence {
    Sentence { key: key.to_string(), args }
}

/// A word or sentence without arguments.
pub fn word(key: &str) -> Part {
    Part::Sentence(say(key, vec![]))
}

/// The English catalogue, parsed once: the sentences' English form for logs and diagnostics.
static EN: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();

impl Sentence {
    /// Text that comes from elsewhere (a CRM's own message, a browser error) as it is: the
    /// `plainText` message is only its placeholder in every locale.
    pub fn plain(s: impl Into<String>) -> Sentence {
        say("plainText", vec![Part::Data(s.into())])
    }

    /// Render with a translator (`chrome.i18n.getMessage` in the shell, a [`Catalog`] natively).
    pub fn render(&self, tr: &dyn Fn(&str, &[String]) -> String) -> String {
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| match a {
                Part::Data(s) => s.clone(),
                Part::Sentence(s) => s.render(tr),
            })
            .collect();
        tr(&self.key, &args)
    }

    /// The English text (the default locale).
    pub fn english(&self) -> String {
        let en = EN.get_or_init(|| Catalog::locale("en"));
        self.render(&|k, a| en.get(k, a))
    }

    /// This sentence and every sentence inside it, outermost first (for the catalogue tests).
    pub fn all(&self) -> Vec<&Sentence> {
        let mut out = vec![self];
        for a in &self.args {
            if let Part::Sentence(s) = a {
                out.extend(s.all());
            }
        }
        out
    }
}

fn replace_named(msg: &str, ph: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = msg;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('$') {
            Some(j) if j > 0 && ph.contains_key(&after[..j].to_ascii_lowercase()) => {
                out.push_str(&ph[&after[..j].to_ascii_lowercase()]);
                rest = &after[j + 1..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn fill_numbered(s: &str, args: &[String]) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('$') => {
                chars.next();
                out.push('$');
            }
            Some(d @ '1'..='9') => {
                chars.next();
                let n = d as usize - '1' as usize;
                out.push_str(args.get(n).map(String::as_str).unwrap_or(""));
            }
            _ => out.push('$'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ui_language_picks_chromes_locale_then_its_language_then_the_default() {
        let name = |lang: &str| Catalog::for_ui_language(lang).get("extName", &[]);
        let of = |locale: &str| Catalog::locale(locale).get("extName", &[]);
        assert_ne!(of("pt_BR"), of("en"), "the test needs distinct names");
        assert_eq!(name("pt-BR"), of("pt_BR"));
        assert_eq!(name("pt_br"), of("pt_BR"));
        assert_eq!(name("es-419"), of("es"));
        assert_eq!(name("hi-IN"), of("hi"));
        assert_eq!(name("en-US"), of("en"));
        // Chrome does not match pt_BR for plain "pt": the default answers.
        assert_eq!(name("pt"), of("en"));
        assert_eq!(name("fr"), of("en"));
        assert_eq!(name(""), of("en"));
    }
}
