//! Phone identity: CRM phone strings and WhatsApp ids to E.164, and the keys that let a
//! WhatsApp number find the CRM record a rep typed by hand.
//!
//! Parsing and validation are libphonenumber's (the `rlibphonenumber` port, metadata
//! 9.0.42); this module adds what CRM data needs on top of it.
//!
//! API:
//! - [`parse_crm_phone`]`(raw, region) -> Result<Vec<E.164>, PhoneError>`: one CRM field, which
//!   may hold several numbers (`/`, `;`, `|`, `,`, new lines), extensions (`ext.`, `x`, `#`,
//!   `ramal`, ...), trunk prefixes, `(0)`, IDD prefixes, full-width digits or vanity letters.
//!   `region` is an ISO 3166 code; `ZZ` or empty means none (the number must then be
//!   international). Rule per number: parse with the default region; if that is not a valid
//!   number, retry the digits as `+digits`; then the WhatsApp-era repairs (Mexico's dropped
//!   `1`/`044`/`045`/`01`, Brazil's missing 9th mobile digit, Russia/Kazakhstan trunk `8`), each
//!   only when the number is otherwise invalid, so a valid number never becomes another one.
//! - [`parse_wa_id`]`(id) -> WaId`: `<digits>@c.us`, `@s.whatsapp.net`, `@hosted`, with `_agent`
//!   and `:device` suffixes, give a phone; `@lid` (and `@hosted.lid`) and `@g.us` never do.
//! - [`match_key`]`(e164) -> String`: the folded key two spellings of one WhatsApp account share
//!   (Brazil with/without the 9th digit, Mexico `521`/`52`, Argentina `549`/`54`).
//! - [`match_keys`]`(e164) -> Vec<E.164>`: every E.164 spelling that folds to the same key.
//! - [`search_variants`]`(e164) -> Vec<String>`: query strings for CRM search APIs, shortest
//!   first, deduplicated.
use rlibphonenumber::{PhoneNumber, PhoneNumberFormat, Region, PHONE_NUMBER_UTIL};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a CRM phone string gave no number. A value, never a panic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum PhoneError {
    Empty,
    NoDigits,
    UnknownRegion { region: String },
    /// A national number and no default region to read it with.
    NeedsCountryCode,
    InvalidCountryCode,
    TooShort,
    TooLong,
    /// Parsed, but libphonenumber says no such number exists (`as_read` is how it was read).
    NotValid { as_read: String },
    NotANumber,
}

impl fmt::Display for PhoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhoneError::Empty => f.write_str("empty"),
            PhoneError::NoDigits => f.write_str("no digits"),
            PhoneError::UnknownRegion { region } => write!(f, "unknown region {region:?}"),
            PhoneError::NeedsCountryCode => f.write_str("national number without a default region"),
            PhoneError::InvalidCountryCode => f.write_str("invalid country code"),
            PhoneError::TooShort => f.write_str("too short"),
            PhoneError::TooLong => f.write_str("too long"),
            PhoneError::NotValid { as_read } => write!(f, "not a valid number (read as {as_read})"),
            PhoneError::NotANumber => f.write_str("not a phone number"),
        }
    }
}

impl std::error::Error for PhoneError {}

/// `None` for `ZZ`/empty (no default region).
pub fn region_code(code: &str) -> Result<Option<Region>, PhoneError> {
    let up = code.trim().to_ascii_uppercase();
    if up.is_empty() || up == "ZZ" {
        return Ok(None);
    }
    let region: Region = up.parse().map_err(|_| PhoneError::UnknownRegion { region: code.to_string() })?;
    // The enum spans every letter pair; only regions with metadata are real.
    if PHONE_NUMBER_UTIL.get_country_code_for_region(region).is_none() {
        return Err(PhoneError::UnknownRegion { region: code.to_string() });
    }
    Ok(Some(region))
}

/// Every number in one CRM phone field, as E.164, in field order, deduplicated.
pub fn parse_crm_phone(raw: &str, region: &str) -> Result<Vec<String>, PhoneError> {
    Ok(parse_crm_field(raw, region)?.into_iter().map(|p| p.e164).collect())
}

/// One number read from a CRM field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parsed {
    pub e164: String,
    /// Read only through a WhatsApp-era repair (an old Brazilian, Mexican or `8…` form):
    /// the matcher ranks it as folded, not exact.
    pub repaired: bool,
}

/// [`parse_crm_phone`] with how each number was read.
pub fn parse_crm_field(raw: &str, region: &str) -> Result<Vec<Parsed>, PhoneError> {
    let region = region_code(region)?;
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(PhoneError::Empty);
    }
    let parts = split_numbers(raw);
    if parts.len() > 1 {
        let parsed: Vec<Result<Parsed, PhoneError>> = parts.iter().map(|p| parse_one(p, region)).collect();
        let good: Vec<Parsed> = parsed.iter().filter_map(|r| r.as_ref().ok().cloned()).collect();
        if good.len() == parsed.len() {
            return Ok(dedup(good));
        }
        // `089/1234567`: the separator was inside one number.
        let joined = raw.replace(SEPARATORS, " ");
        if let Ok(one) = parse_one(&joined, region) {
            return Ok(vec![one]);
        }
        if !good.is_empty() {
            return Ok(dedup(good));
        }
        return Err(parse_one(raw, region).err().unwrap_or(PhoneError::NotANumber));
    }
    parse_one(&parts[0], region).map(|e| vec![e])
}

/// The first number of a CRM field (what the `phone e164` harness prints).
pub fn parse_first(raw: &str, region: &str) -> Result<String, PhoneError> {
    parse_crm_phone(raw, region)?.into_iter().next().ok_or(PhoneError::NotANumber)
}

const SEPARATORS: [char; 6] = ['/', ';', '|', ',', '\n', '\u{FF0F}'];

/// Splits a field on number separators, dropping parts too short to be a number (notes).
fn split_numbers(raw: &str) -> Vec<String> {
    let mut parts = Vec::new();
    for piece in raw.split(SEPARATORS) {
        for p in split_words(piece, &[" or ", " ou ", " o ", " oder "]) {
            if p.chars().filter(|c| c.is_numeric()).count() >= 3 {
                parts.push(p.trim().to_string());
            }
        }
    }
    if parts.is_empty() {
        parts.push(raw.to_string());
    }
    parts
}

fn split_words<'a>(s: &'a str, words: &[&str]) -> Vec<&'a str> {
    let lower = s.to_lowercase();
    // Byte offsets only line up when lowercasing kept the length.
    if lower.len() != s.len() {
        return vec![s];
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < lower.len() {
        if let Some(w) = words.iter().find(|w| lower[i..].starts_with(**w)) {
            out.push(&s[start..i]);
            i += w.len();
            start = i;
        } else {
            i += lower[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out.push(&s[start..]);
    out
}

fn dedup(v: Vec<Parsed>) -> Vec<Parsed> {
    let mut out: Vec<Parsed> = Vec::with_capacity(v.len());
    for s in v {
        if !out.iter().any(|o| o.e164 == s.e164) {
            out.push(s);
        }
    }
    out
}

/// Extension labels libphonenumber does not cut itself (it does `ext`, `x`, `#`, `;ext=`).
const EXT_LABELS: [&str; 8] = ["ramal", "extension", "extensión", "anexo", "poste", "durchwahl", "interno", "доб"];

/// Cuts a trailing extension introduced by a label libphonenumber does not know.
fn cut_extension(s: &str) -> &str {
    let lower = s.to_lowercase();
    if lower.len() != s.len() {
        return s;
    }
    for label in EXT_LABELS {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(label).map(|p| p + from) {
            let before_ok = lower[..pos].chars().next_back().is_none_or(|c| !c.is_alphabetic());
            let after_ok = lower[pos + label.len()..].chars().next().is_none_or(|c| !c.is_alphabetic());
            let has_digits_before = s[..pos].chars().any(|c| c.is_numeric());
            if before_ok && after_ok && has_digits_before {
                return &s[..pos];
            }
            from = pos + label.len();
        }
    }
    s
}

/// Drops parenthesised notes that contain a letter (`(office)`, `(WhatsApp)`): libphonenumber
/// would read their letters as vanity digits. `(0)`, `(11)` and `(800)` stay.
fn strip_notes(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('(') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find([')', '(']) {
            Some(close) if after[close..].starts_with(')') => {
                let inner = &after[..close];
                if inner.chars().any(char::is_alphabetic) {
                    out.push(' ');
                } else {
                    out.push('(');
                    out.push_str(inner);
                    out.push(')');
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('(');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

fn e164(n: &PhoneNumber) -> String {
    n.format_as(PhoneNumberFormat::E164).into_owned()
}

fn parse_valid(s: &str, region: Option<Region>) -> Option<String> {
    PHONE_NUMBER_UTIL.parse(s, region).ok().filter(|n| n.is_valid()).map(|n| e164(&n))
}

fn map_parse_error(e: rlibphonenumber::ParseError, region: Option<Region>) -> PhoneError {
    use rlibphonenumber::ParseError as P;
    match e {
        P::InvalidCountryCode if region.is_none() => PhoneError::NeedsCountryCode,
        P::InvalidCountryCode => PhoneError::InvalidCountryCode,
        P::TooShortAfterIdd | P::TooShortNsn => PhoneError::TooShort,
        P::TooLongNsn => PhoneError::TooLong,
        P::NotANumber(_) => PhoneError::NotANumber,
    }
}

/// One number: libphonenumber with the default region, then `+digits`, then repairs.
fn parse_one(raw: &str, region: Option<Region>) -> Result<Parsed, PhoneError> {
    let exact = |e164: String| Parsed { e164, repaired: false };
    let repaired = |e164: String| Parsed { e164, repaired: true };
    let without_notes = strip_notes(raw);
    let s = cut_extension(&without_notes).trim();
    if s.is_empty() {
        return Err(PhoneError::Empty);
    }
    if !s.chars().any(|c| c.is_numeric()) && !s.chars().any(|c| c.is_ascii_alphabetic()) {
        return Err(PhoneError::NoDigits);
    }
    let first = PHONE_NUMBER_UTIL.parse(s, region);
    if let Ok(n) = &first {
        if n.is_valid() {
            return Ok(exact(e164(n)));
        }
    }
    // A number typed with its country code but no `+` or IDD prefix.
    let rest = s.trim_start_matches(|c: char| !c.is_numeric());
    let international = s.starts_with(['+', '\u{FF0B}']);
    let plus = (!rest.is_empty() && !international)
        .then(|| PHONE_NUMBER_UTIL.parse(format!("+{rest}"), None));
    if let Some(Ok(n)) = &plus {
        if n.is_valid() {
            return Ok(exact(e164(n)));
        }
    }
    // An IDD prefix of another region (`0044…` typed with a US default, `011…` with a German one).
    if !international {
        for idd in ["00", "011"] {
            if let Some(after) = strip_idd(rest, idd) {
                if let Some(e) = parse_valid(&format!("+{after}"), None) {
                    return Ok(exact(e));
                }
            }
        }
    }
    let readings = [first.as_ref().ok(), plus.as_ref().and_then(|r| r.as_ref().ok())];
    for n in readings.into_iter().flatten() {
        if let Some(fixed) = repair(n.country_code, &n.get_national_significant_number()) {
            return Ok(repaired(fixed));
        }
    }
    if let Some(fixed) = repair_trunk_8(s) {
        return Ok(repaired(fixed));
    }
    match first {
        Ok(n) => Err(PhoneError::NotValid { as_read: e164(&n) }),
        Err(e) => Err(map_parse_error(e, region)),
    }
}

/// `rest` without a leading IDD prefix (its digits may be spaced: `00 44`, `0-11`).
fn strip_idd<'a>(rest: &'a str, idd: &str) -> Option<&'a str> {
    let mut want = idd.chars().peekable();
    for (i, c) in rest.char_indices() {
        if want.peek().is_none() {
            return Some(&rest[i..]);
        }
        if matches!(c, '-' | '.' | '(' | ')') || c.is_whitespace() {
            continue;
        }
        if Some(c) != want.next() {
            return None;
        }
    }
    None
}

/// Numbers WhatsApp-era CRMs keep in forms libphonenumber now calls invalid. Each rewrite
/// applies to an invalid reading only and must yield a valid number.
fn repair(cc: i32, nsn: &str) -> Option<String> {
    let candidate = match cc {
        // Mexico: mobile `1` (abolished 2019) and old domestic prefixes 044/045 (mobile), 01.
        52 => {
            if (nsn.starts_with("044") || nsn.starts_with("045")) && nsn.len() == 13 {
                nsn[3..].to_string()
            } else if nsn.starts_with("01") && nsn.len() == 12 {
                nsn[2..].to_string()
            } else if nsn.starts_with('1') && nsn.len() == 11 {
                nsn[1..].to_string()
            } else {
                return None;
            }
        }
        // Brazil: an 8-digit mobile from before the 9th digit.
        55 if nsn.len() == 10 && matches!(nsn.as_bytes()[2], b'6'..=b'9') => format!("{}9{}", &nsn[..2], &nsn[2..]),
        _ => return None,
    };
    parse_valid(&format!("+{cc}{candidate}"), None)
}

/// Russia/Kazakhstan: `8` + 10 digits is the domestic form of `+7`. Only for numbers written
/// domestically: `+886…` must never become `+7886…`.
fn repair_trunk_8(s: &str) -> Option<String> {
    let digits = digits_of(s);
    let domestic = s.trim_start_matches(|c: char| c.is_whitespace() || c == '(').starts_with(['8', '\u{FF18}']);
    if domestic && digits.len() == 11 && digits.starts_with('8') {
        parse_valid(&format!("+7{}", &digits[1..]), None)
    } else {
        None
    }
}

/// ASCII digits of a string (full-width and other decimal digits folded).
fn digits_of(s: &str) -> String {
    s.chars().filter_map(|c| c.to_digit(10).or_else(|| fullwidth_digit(c))).filter_map(|d| char::from_digit(d, 10)).collect()
}

fn fullwidth_digit(c: char) -> Option<u32> {
    ('\u{FF10}'..='\u{FF19}').contains(&c).then(|| c as u32 - 0xFF10)
}

/// What a WhatsApp id names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WaId {
    /// A phone-number account: `+digits` (not checked against libphonenumber: a 12-digit
    /// Brazilian id from before the 9th digit is real yet "invalid").
    Phone { e164: String, device: Option<u32>, agent: Option<u32> },
    /// An opaque linked identity (`…@lid`, `…@hosted.lid`): never a phone number.
    Lid { id: String },
    Group { id: String },
    /// Broadcast lists, newsletters, malformed ids.
    Other { id: String, reason: String },
}

impl WaId {
    pub fn phone(&self) -> Option<&str> {
        match self {
            WaId::Phone { e164, .. } => Some(e164),
            _ => None,
        }
    }
}

/// Reads a WhatsApp JID (`user[_agent][:device]@server`). A bare `+digits`/`digits` string
/// is read as a phone account too (numbers shown in headers and drawers).
pub fn parse_wa_id(id: &str) -> WaId {
    let id = id.trim();
    let other = |reason: &str| WaId::Other { id: id.to_string(), reason: reason.to_string() };
    let (user, server) = match id.rsplit_once('@') {
        Some((u, s)) => (u, s.to_ascii_lowercase()),
        None => (id, String::new()),
    };
    match server.as_str() {
        "lid" | "hosted.lid" => return WaId::Lid { id: id.to_string() },
        "g.us" => return WaId::Group { id: id.to_string() },
        "c.us" | "s.whatsapp.net" | "hosted" | "" => {}
        _ => return other("not a phone-number server"),
    }
    let (user_agent, device) = match user.split_once(':') {
        Some((ua, d)) => match d.parse::<u32>() {
            Ok(d) => (ua, Some(d)),
            Err(_) => return other("bad device suffix"),
        },
        None => (user, None),
    };
    let (digits, agent) = match user_agent.split_once('_') {
        Some((u, a)) => match a.parse::<u32>() {
            Ok(a) => (u, Some(a)),
            Err(_) => return other("bad agent suffix"),
        },
        None => (user_agent, None),
    };
    let digits = if server.is_empty() {
        // Bare numbers: allow the `+` and the separators a display shows.
        let d: String = digits.trim_start_matches('+').chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
        d
    } else {
        digits.to_string()
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return other("user part is not digits");
    }
    if !(7..=15).contains(&digits.len()) || digits.starts_with('0') {
        return other("not 7-15 digits of an international number");
    }
    WaId::Phone { e164: format!("+{digits}"), device, agent }
}

/// The folded key: the same for every spelling WhatsApp or a CRM uses for one account.
/// Brazil keeps the 9th digit, Mexico drops `1`, Argentina drops the mobile `9`.
pub fn match_key(e164: &str) -> String {
    let d = digits_of(e164);
    let b = d.as_bytes();
    let folded = if d.len() == 12 && d.starts_with("55") && b[2] != b'0' && b[3] != b'0' && matches!(b[4], b'6'..=b'9') {
        format!("55{}9{}", &d[2..4], &d[4..])
    } else if d.len() == 13 && (d.starts_with("521") || d.starts_with("549")) {
        format!("{}{}", &d[..2], &d[3..])
    } else {
        d
    };
    format!("+{folded}")
}

/// Every E.164 spelling of the account `e164` names: the folded key first, then the others.
pub fn match_keys(e164: &str) -> Vec<String> {
    let key = match_key(e164);
    let d = &key[1..];
    let b = d.as_bytes();
    let mut out = vec![key.clone()];
    if d.len() == 13 && d.starts_with("55") && b[4] == b'9' && matches!(b[5], b'6'..=b'9') {
        out.push(format!("+55{}{}", &d[2..4], &d[5..]));
    } else if d.len() == 12 && d.starts_with("52") {
        out.push(format!("+521{}", &d[2..]));
    } else if d.len() == 12 && d.starts_with("54") {
        out.push(format!("+549{}", &d[2..]));
    }
    let own = format!("+{}", digits_of(e164));
    if !out.contains(&own) {
        out.push(own);
    }
    out
}

/// Query strings for one WhatsApp number to send to a CRM search API: each spelling as
/// E.164, as digits, as `+cc-national` (LeadSquared's stored form), as the national
/// significant number and as national digits with the trunk prefix (`02079460958`); shortest
/// first, deduplicated. The matcher re-checks every hit, so a broad query cannot link the
/// wrong record.
pub fn search_variants(e164: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for form in match_keys(e164) {
        let digits = form[1..].to_string();
        let mut forms = vec![form.clone(), digits.clone()];
        if let Ok(n) = PHONE_NUMBER_UTIL.parse(&form, None) {
            let nsn = n.get_national_significant_number();
            if nsn.len() >= 6 && nsn != digits {
                forms.push(format!("+{}-{nsn}", n.country_code));
                forms.push(nsn);
            }
            let national = digits_of(&n.format_as(PhoneNumberFormat::National));
            if national.len() >= 6 {
                forms.push(national);
            }
        }
        for q in forms {
            if !out.contains(&q) {
                out.push(q);
            }
        }
    }
    out.sort_by_key(|s| s.len());
    out
}

/// One line of the `crmsync phone e164` harness: `raw<TAB>region` → the first number's
/// E.164, or `invalid<TAB>reason`.
pub fn e164_line(line: &str) -> String {
    let Some((raw, region)) = line.rsplit_once('\t') else {
        return "invalid\tbad input: expected raw<TAB>region".to_string();
    };
    match parse_first(raw, region) {
        Ok(e) => e,
        Err(e) => format!("invalid\t{e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(raw: &str, region: &str) -> Result<Vec<String>, PhoneError> {
        parse_crm_phone(raw, region)
    }

    #[test]
    fn national_international_and_idd_forms() {
        for (raw, region) in [
            ("(202) 555-0173", "US"),
            ("202.555.0173", "US"),
            ("+1 202 555 0173", "ZZ"),
            ("011 1 202 555 0173", "US"),
            ("00 1 202 555 0173", "GB"),
            ("001 202 555 0173", "DE"),
            ("12025550173", "DE"),
            ("１２０２５５５０１７３", "ZZ"),
        ] {
            assert_eq!(p(raw, region), Ok(vec!["+12025550173".to_string()]), "{raw} {region}");
        }
        assert_eq!(p("+44 (0)20 7946 0958", "US"), Ok(vec!["+442079460958".into()]));
        assert_eq!(p("020 7946 0958", "GB"), Ok(vec!["+442079460958".into()]));
        assert_eq!(p("０２０ ７９４６ ０９５８", "GB"), Ok(vec!["+442079460958".into()]));
    }

    #[test]
    fn extensions_are_cut() {
        for raw in ["+1 202-555-0173 ext. 89", "202 555 0173 x12", "202 555 0173 #4", "202 555 0173 ramal 12", "202 555 0173 Ramal: 3"] {
            assert_eq!(p(raw, "US"), Ok(vec!["+12025550173".into()]), "{raw}");
        }
        assert_eq!(p("(11) 98765-4321 ramal 3", "BR"), Ok(vec!["+5511987654321".into()]));
    }

    #[test]
    fn notes_in_parentheses_are_dropped() {
        assert_eq!(p("(202) 555-0173 (office)", "US"), Ok(vec!["+12025550173".into()]));
        assert_eq!(p("+44 (0)20 7946 0958 (WhatsApp)", "ZZ"), Ok(vec!["+442079460958".into()]));
        assert_eq!(strip_notes("(11) 98765-4321 (casa) (0"), "(11) 98765-4321   (0");
    }

    #[test]
    fn vanity_letters() {
        assert_eq!(p("1-800-FLOWERS", "US"), Ok(vec!["+18003569377".into()]));
    }

    #[test]
    fn several_numbers_in_one_field() {
        assert_eq!(
            p("+1 202 555 0173 / +44 20 7946 0958", "US"),
            Ok(vec!["+12025550173".into(), "+442079460958".into()])
        );
        assert_eq!(p("202 555 0173; 202 555 0174 | 202 555 0173", "US"), Ok(vec!["+12025550173".into(), "+12025550174".into()]));
        assert_eq!(p("202 555 0173 or 202 555 0174", "US"), Ok(vec!["+12025550173".into(), "+12025550174".into()]));
        // A slash inside one German number is not a separator.
        assert_eq!(p("089/1234567", "DE"), Ok(vec!["+49891234567".into()]));
        // A note after a separator is dropped; a bad part does not sink a good one.
        assert_eq!(p("+1 202 555 0173 / evenings", "US"), Ok(vec!["+12025550173".into()]));
        assert_eq!(p("+1 202 555 0173 / 999", "US"), Ok(vec!["+12025550173".into()]));
    }

    #[test]
    fn retry_as_international_when_the_region_gives_invalid() {
        assert_eq!(p("44 20 7946 0958", "US"), Ok(vec!["+442079460958".into()]));
        assert_eq!(p("5511987654321", "US"), Ok(vec!["+5511987654321".into()]));
        assert_eq!(p("0044 20 7946 0958", "US"), Ok(vec!["+442079460958".into()]));
        assert_eq!(p("011 44 20 7946 0958", "FR"), Ok(vec!["+442079460958".into()]));
        assert_eq!(strip_idd("0 0-44 1", "00"), Some("-44 1"));
        assert_eq!(strip_idd("044", "00"), None);
    }

    #[test]
    fn repairs_of_whatsapp_era_forms() {
        assert_eq!(p("044 55 1234 5678", "MX"), Ok(vec!["+525512345678".into()]));
        assert_eq!(p("045 55 1234 5678", "MX"), Ok(vec!["+525512345678".into()]));
        assert_eq!(p("01 55 1234 5678", "MX"), Ok(vec!["+525512345678".into()]));
        assert_eq!(p("+52 1 55 1234 5678", "ZZ"), Ok(vec!["+525512345678".into()]));
        assert_eq!(p("(11) 8765-4321", "BR"), Ok(vec!["+5511987654321".into()]));
        assert_eq!(p("8 912 345 67 89", "US"), Ok(vec!["+79123456789".into()]));
        assert_eq!(p("8 912 345 67 89", "RU"), Ok(vec!["+79123456789".into()]));
        assert!(p("+886 2 2123 456", "ZZ").is_err(), "an international number is never read as trunk 8");
        assert_eq!(p("011 15 2345-6789", "AR"), Ok(vec!["+5491123456789".into()]));
    }

    #[test]
    fn errors_are_values_with_reasons() {
        assert_eq!(p("", "US"), Err(PhoneError::Empty));
        assert_eq!(p("n/a", "US"), Err(PhoneError::NotANumber));
        assert_eq!(p("202 555 0173", "XX"), Err(PhoneError::UnknownRegion { region: "XX".into() }));
        assert!(matches!(p("020 7946 0958", "US"), Err(PhoneError::NotValid { .. })));
        assert_eq!(p("020 7946 0958", "ZZ"), Err(PhoneError::NeedsCountryCode));
        assert!(p("12", "US").is_err());
        assert!(!PhoneError::TooShort.to_string().is_empty());
    }

    #[test]
    fn whatsapp_ids() {
        let phone = |e: &str, device, agent| WaId::Phone { e164: e.into(), device, agent };
        assert_eq!(parse_wa_id("5511987654321@c.us"), phone("+5511987654321", None, None));
        assert_eq!(parse_wa_id("5511987654321@s.whatsapp.net"), phone("+5511987654321", None, None));
        assert_eq!(parse_wa_id("5511987654321:12@s.whatsapp.net"), phone("+5511987654321", Some(12), None));
        assert_eq!(parse_wa_id("5511987654321_1:3@s.whatsapp.net"), phone("+5511987654321", Some(3), Some(1)));
        assert_eq!(parse_wa_id("14155550123@hosted"), phone("+14155550123", None, None));
        assert_eq!(parse_wa_id("+55 11 98765-4321"), phone("+5511987654321", None, None));
        assert!(matches!(parse_wa_id("123456789012345@lid"), WaId::Lid { .. }));
        assert!(matches!(parse_wa_id("123456789012345@hosted.lid"), WaId::Lid { .. }));
        assert!(matches!(parse_wa_id("5511987654321-1600000000@g.us"), WaId::Group { .. }));
        assert!(matches!(parse_wa_id("status@broadcast"), WaId::Other { .. }));
        assert!(matches!(parse_wa_id("abc@c.us"), WaId::Other { .. }));
        assert!(matches!(parse_wa_id("123@c.us"), WaId::Other { .. }));
        assert!(matches!(parse_wa_id("0123456789@c.us"), WaId::Other { .. }));
        assert!(matches!(parse_wa_id("5511987654321:x@c.us"), WaId::Other { .. }));
        assert_eq!(parse_wa_id("123456789012345@lid").phone(), None);
    }

    #[test]
    fn keys_fold_both_directions() {
        assert_eq!(match_key("+551187654321"), "+5511987654321");
        assert_eq!(match_key("+5511987654321"), "+5511987654321");
        assert_eq!(match_key("+5215512345678"), "+525512345678");
        assert_eq!(match_key("+5491123456789"), "+541123456789");
        // Brazilian landlines (first subscriber digit 2-5) have no 9th digit to add.
        assert_eq!(match_key("+551134567890"), "+551134567890");
        // Italian leading zero stays.
        assert_eq!(match_key("+390612345678"), "+390612345678");
        assert_eq!(match_keys("+551187654321"), vec!["+5511987654321", "+551187654321"]);
        assert_eq!(match_keys("+525512345678"), vec!["+525512345678", "+5215512345678"]);
        assert_eq!(match_keys("+5491123456789"), vec!["+541123456789", "+5491123456789"]);
        assert_eq!(match_keys("+12025550173"), vec!["+12025550173"]);
    }

    #[test]
    fn search_variants_shortest_first_deduplicated() {
        let v = search_variants("+5511987654321");
        assert_eq!(v.first().map(String::as_str), Some("1187654321"));
        for q in ["+5511987654321", "5511987654321", "11987654321", "+551187654321", "551187654321"] {
            assert!(v.iter().any(|x| x == q), "{q} in {v:?}");
        }
        assert!(v.windows(2).all(|w| w[0].len() <= w[1].len()));
        let mut sorted = v.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), v.len());
        assert_eq!(search_variants("+12025550173"), vec!["2025550173", "12025550173", "+12025550173", "+1-2025550173"]);
        let uk = search_variants("+442079460958");
        assert_eq!(uk, vec!["2079460958", "02079460958", "442079460958", "+442079460958", "+44-2079460958"]);
    }
}
