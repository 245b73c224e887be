//! First run, pure: the rep's default phone region guessed from the browser's language and,
//! when the rep gives it, their own WhatsApp number (a number says its country better than a
//! language does: a pt-PT browser in Brazil), and the steps the options page leads through.
use serde::{Deserialize, Serialize};

/// Languages whose speakers are mostly in one country, for a language tag without a region.
const LANGUAGE_COUNTRY: &[(&str, &str)] = &[
    ("ja", "JP"),
    ("ko", "KR"),
    ("de", "DE"),
    ("fr", "FR"),
    ("it", "IT"),
    ("pl", "PL"),
    ("nl", "NL"),
    ("tr", "TR"),
    ("id", "ID"),
    ("th", "TH"),
    ("vi", "VN"),
    ("hi", "IN"),
    ("bn", "BD"),
    ("ru", "RU"),
    ("uk", "UA"),
    ("he", "IL"),
];

/// The default region: the own number's country, else the language tag's region
/// (`pt-BR` → `BR`), else a language's main country, else `US`.
pub fn guess_region(language: &str, own_number: Option<&str>) -> String {
    if let Some(n) = own_number.map(str::trim).filter(|n| !n.is_empty()) {
        let digits: String = n.chars().filter(char::is_ascii_digit).collect();
        if let Some(r) = super::phone::region_of(&format!("+{digits}")) {
            if r != "001" {
                return r;
            }
        }
    }
    let tag = language.trim().replace('_', "-");
    let mut parts = tag.split('-');
    let lang = parts.next().unwrap_or("").to_ascii_lowercase();
    // The region subtag is two letters (script subtags have four: zh-Hans-CN).
    if let Some(r) = parts.find(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_alphabetic())) {
        return r.to_ascii_uppercase();
    }
    LANGUAGE_COUNTRY
        .iter()
        .find(|(l, _)| *l == lang)
        .map(|(_, c)| c.to_string())
        .unwrap_or_else(|| "US".into())
}

/// Where the options page's guided first run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// No CRM connected yet: pick one and sign in.
    PickCrm,
    /// Connected: the setup check, the default region, then done.
    Finish,
    /// The rep finished (or the page was opened after setup): the full options.
    Done,
}

/// The step to show: `finished` is the rep's "Done" click, remembered by the worker.
pub fn step(connected: usize, finished: bool) -> Step {
    match (connected, finished) {
        (_, true) => Step::Done,
        (0, false) => Step::PickCrm,
        _ => Step::Finish,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_from_own_number_then_language() {
        assert_eq!(guess_region("pt-PT", Some("+55 11 98765-4321")), "BR");
        assert_eq!(guess_region("en-US", Some("919876543210")), "IN");
        assert_eq!(guess_region("pt-BR", None), "BR");
        assert_eq!(guess_region("zh-Hans-CN", None), "CN");
        assert_eq!(guess_region("es_MX", None), "MX");
        assert_eq!(guess_region("ja", None), "JP");
        assert_eq!(guess_region("en", None), "US");
        assert_eq!(guess_region("", Some("not a number")), "US");
    }

    #[test]
    fn first_run_steps() {
        assert_eq!(step(0, false), Step::PickCrm);
        assert_eq!(step(1, false), Step::Finish);
        assert_eq!(step(1, true), Step::Done);
        assert_eq!(step(0, true), Step::Done);
    }
}
