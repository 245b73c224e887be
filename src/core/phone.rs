//! Phone identity: CRM phone strings → E.164, WhatsApp ids → numbers, and match keys that
//! fold WhatsApp's country quirks.
//!
//! Parsing is libphonenumber's (the `rlibphonenumber` port, regex-lite backend); this module
//! adds only what CRM fields need around it: cutting extensions, splitting multi-number
//! fields, the retry as `+digits`, Mexico's abolished domestic prefixes and Russia's trunk 8.
//!
//! Folding (`match_keys`) maps every form WhatsApp or a rep may use for one line to one key:
//! Brazil with/without the 9th mobile digit, Mexico `521`/`52`, Argentina `549`/`54` and
//! the domestic `15`. It never shortens a number to a suffix, so a different valid number
//! never folds onto another.
use rlibphonenumber::{PhoneNumberFormat, Region, PHONE_NUMBER_UTIL};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PhoneError {
    Empty,
    UnknownRegion(String),
    /// libphonenumber could not read it, or read it as an invalid number.
    Invalid(String),
}

impl std::fmt::Display for PhoneError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PhoneError::Empty => write!(f, "no phone number in the field"),
            PhoneError::UnknownRegion(r) => write!(f, "unknown region {r:?}"),
            PhoneError::Invalid(why) => write!(f, "not a valid phone number: {why}"),
        }
    }
}

/// `"BR"` → Some(Region); `"ZZ"` (or empty) → None: the number must be international.
pub fn region(code: &str) -> Result<Option<Region>, PhoneError> {
    let c = code.trim().to_ascii_uppercase();
    if c.is_empty() || c == "ZZ" {
        return Ok(None);
    }
    // from_code accepts any two letters; a region is real only if it has a country code.
    Region::from_code(&c)
        .ok()
        .filter(|r| PHONE_NUMBER_UTIL.get_country_code_for_region(*r).is_some())
        .map(Some)
        .ok_or_else(|| PhoneError::UnknownRegion(code.to_string()))
}

/// Extension markers people type after a number (lowercase). Cut before parsing: an
/// extension is not part of the WhatsApp number.
const EXTENSION_MARKERS: [&str; 12] = [
    "extension",
    "extn",
    "ext.",
    "ext",
    "ramal",
    "anexo",
    "int.",
    "доб.",
    "доб",
    "内線",
    " x",
    "#",
];

fn cut_extension(s: &str) -> &str {
    let lower = s.to_lowercase();
    // Only when the marker is followed by digits to the end: "x" inside vanity words stays.
    for m in EXTENSION_MARKERS {
        if let Some(pos) = lower.rfind(m) {
            let tail = &lower[pos + m.len()..];
            let tail = tail.trim_start_matches([' ', '.', ':', '-']);
            if !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit() || c == ' ') && pos > 0 {
                // `lower` and `s` share byte offsets only when lowercasing kept lengths; fall
                // back to a char-count cut otherwise.
                if lower.len() == s.len() {
                    return s[..pos].trim_end();
                }
                let n = lower[..pos].chars().count();
                let end = s.char_indices().nth(n).map(|(i, _)| i).unwrap_or(s.len());
                return s[..end].trim_end();
            }
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

/// Full-width and other Unicode decimal digits → ASCII; everything else unchanged.
fn ascii_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '＋' => '+',
            _ => c,
        })
        .collect()
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn e164_of(raw: &str, region: Option<Region>) -> Result<String, PhoneError> {
    let n =
        PHONE_NUMBER_UTIL.parse(raw, region).map_err(|e| PhoneError::Invalid(format!("{e:?}")))?;
    if !n.is_valid() {
        return Err(PhoneError::Invalid("no such number in its country's numbering plan".into()));
    }
    Ok(n.format_as(PhoneNumberFormat::E164).into_owned())
}

/// A number a WhatsApp tab reported (`+digits` read from the page) → E.164 where it parses,
/// else as given. Idempotent: an E.164 number comes back unchanged.
pub fn canonical_reported(p: &str) -> String {
    parse_one(p, "ZZ").unwrap_or_else(|_| p.to_string())
}

/// One number (no separators) → E.164.
pub fn parse_one(raw: &str, default_region: &str) -> Result<String, PhoneError> {
    let reg = region(default_region)?;
    let cleaned = ascii_digits(cut_extension(raw.trim()));
    if digits(&cleaned).is_empty() && !cleaned.chars().any(|c| c.is_alphabetic()) {
        return Err(PhoneError::Empty);
    }
    // Mexico dropped its domestic mobile (044/045) and long-distance (01) prefixes in 2019;
    // CRMs still hold them. libphonenumber no longer strips them, so do it before parsing.
    let cleaned = match reg {
        Some(r) if r == Region::MX && !cleaned.trim_start().starts_with('+') => {
            let d = digits(&cleaned);
            let rest = ["044", "045", "01"]
                .iter()
                .find_map(|p| d.strip_prefix(p).filter(|r| r.len() == 10));
            rest.map(str::to_string).unwrap_or(cleaned)
        }
        _ => cleaned,
    };
    let first = match e164_of(&cleaned, reg) {
        Ok(e164) => return Ok(e164),
        Err(e) => e,
    };
    // The default region gave nothing valid: the rep may have typed the country code
    // without '+' (or with 00 from anywhere).
    let d = digits(&cleaned);
    let mut retries = vec![format!("+{d}")];
    // An IDD prefix of another region (`0044…` with a US default, `011…` with a German one).
    let international = cleaned.trim_start().starts_with('+');
    for idd in ["00", "011"] {
        if let Some(rest) = d.strip_prefix(idd).filter(|_| !international) {
            retries.push(format!("+{rest}"));
        }
    }
    // Russia/Kazakhstan: the domestic trunk 8 in place of the country code 7. Only for a
    // number typed domestically: `+886 …` must never become `+7 886 …`.
    let domestic_8 =
        cleaned.trim_start_matches(|c: char| c.is_whitespace() || c == '(').starts_with('8');
    if domestic_8 && d.len() == 11 && d.starts_with('8') {
        retries.push(format!("+7{}", &d[1..]));
    }
    // Mexico: `+52 1 …`, the mobile 1 abolished in 2019, is the same line without it.
    if let Some(rest) = d.strip_prefix("521").filter(|r| r.len() == 10) {
        retries.push(format!("+52{rest}"));
    }
    // Brazil: an 8-digit mobile saved before the 9th digit (libphonenumber now calls those
    // invalid). Adding the 9 gives the same line, which is what WhatsApp reaches.
    let br_national = match reg {
        Some(r) if r == Region::BR && d.len() == 10 => Some(d.as_str()),
        _ => d.strip_prefix("55").filter(|n| n.len() == 10),
    };
    if let Some(n) = br_national.filter(|n| matches!(n.as_bytes()[2], b'6'..=b'9')) {
        retries.push(format!("+55{}9{}", &n[..2], &n[2..]));
    }
    retries.into_iter().find_map(|r| e164_of(&r, None).ok()).ok_or(first)
}

/// A CRM phone field → every number in it, in order. Fields may hold several numbers
/// separated by `/`, `;`, `|` or a newline. Fails only if none of them is valid.
pub fn parse_crm_phone(raw: &str, default_region: &str) -> Result<Vec<String>, PhoneError> {
    region(default_region)?;
    let mut out: Vec<String> = Vec::new();
    let mut last_err = PhoneError::Empty;
    // Notes typed into the field (`(office)`) are not part of any number.
    let raw = strip_notes(raw);
    for part in raw.split(['/', ';', '|', '\n']) {
        if part.trim().is_empty() {
            continue;
        }
        match parse_one(part, default_region) {
            Ok(e) if !out.contains(&e) => out.push(e),
            Ok(_) => {}
            Err(e) => last_err = e,
        }
    }
    if out.is_empty() {
        Err(last_err)
    } else {
        Ok(out)
    }
}

/// The country (two-letter region) a number belongs to, e.g. `"BR"` for `+55…`. Old
/// WhatsApp forms libphonenumber calls invalid are read through their modern form.
pub fn region_of(e164: &str) -> Option<String> {
    let n = PHONE_NUMBER_UTIL.parse(e164, None).ok();
    let r = n.as_ref().and_then(|n| n.get_region_code()).or_else(|| {
        let modern = parse_one(e164, "ZZ").ok()?;
        PHONE_NUMBER_UTIL.parse(modern, None).ok()?.get_region_code()
    })?;
    Some(r.to_string())
}

/// A number as the rep reads it: libphonenumber's national format for a number of the rep's
/// own region (`(11) 98765-4321` for a Brazilian rep), its international format otherwise
/// (`+55 11 98765-4321` elsewhere). `None` when the text is not a valid number.
pub fn display(raw: &str, rep_region: &str) -> Option<String> {
    let e164 = parse_one(raw, rep_region).or_else(|_| parse_one(raw, "ZZ")).ok()?;
    let n = PHONE_NUMBER_UTIL.parse(&e164, None).ok()?;
    let mine = region(rep_region).ok().flatten();
    let format = if mine.is_some() && n.get_region_code() == mine {
        PhoneNumberFormat::National
    } else {
        PhoneNumberFormat::International
    };
    Some(n.format_as(format).into_owned())
}

/// What a WhatsApp id (JID) identifies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WaId {
    /// `+<digits>`: the account's number exactly as WhatsApp has it (may be an old form,
    /// e.g. a Brazilian mobile without the 9th digit, which libphonenumber calls invalid).
    Phone(String),
    /// `…@lid`: an opaque identity, never a phone number.
    Lid(String),
    /// `…@g.us`: a group.
    Group(String),
    Invalid(String),
}

/// Parse `5511987654321@c.us`, `…@s.whatsapp.net`, `…@hosted`, with `:device` and `_agent`
/// suffixes; a bare `+digits` or digits string is taken as a number too.
pub fn parse_wa_id(id: &str) -> WaId {
    let id = id.trim();
    let (user, server) = match id.split_once('@') {
        Some((u, s)) => (u, s.to_ascii_lowercase()),
        None => (id, String::new()),
    };
    match server.as_str() {
        "lid" | "hosted.lid" => return WaId::Lid(id.to_string()),
        "g.us" => return WaId::Group(id.to_string()),
        "" | "c.us" | "s.whatsapp.net" | "hosted" => {}
        other => return WaId::Invalid(format!("unknown WhatsApp server {other:?}")),
    }
    // `user:device` and `user_agent` suffixes belong to the session, not the number.
    let user = user.split(':').next().unwrap_or(user);
    let user = user.split('_').next().unwrap_or(user);
    let user = user.strip_prefix('+').unwrap_or(user);
    if (7..=15).contains(&user.len())
        && user.bytes().all(|b| b.is_ascii_digit())
        && !user.starts_with('0')
    {
        WaId::Phone(format!("+{user}"))
    } else {
        WaId::Invalid(format!("{user:?} is not 7 to 15 digits"))
    }
}

/// The canonical folded form of a number: the key every WhatsApp/CRM variant of one line
/// shares. Input: E.164 or WhatsApp `+digits`.
pub fn fold(e164: &str) -> String {
    let d = digits(e164);
    if let Some(nat) = d.strip_prefix("55") {
        // Brazil: area code (2) + subscriber. A 9-digit mobile starting with 9 followed by
        // 6-9 is the same line as the 8-digit form without the 9.
        if nat.len() == 11 && nat.as_bytes()[2] == b'9' && matches!(nat.as_bytes()[3], b'6'..=b'9')
        {
            return format!("55{}{}", &nat[..2], &nat[3..]);
        }
        return d;
    }
    if let Some(nat) = d.strip_prefix("52") {
        // Mexico: the mobile '1' after the country code was abolished.
        if nat.len() == 11 && nat.starts_with('1') {
            return format!("52{}", &nat[1..]);
        }
        return d;
    }
    if let Some(nat) = d.strip_prefix("54") {
        // Argentina: the international mobile '9', and the domestic '15' after the area code.
        let nat = if nat.len() == 11 && nat.starts_with('9') { &nat[1..] } else { nat };
        if nat.len() == 12 {
            for area in [2usize, 3, 4] {
                if &nat[area..area + 2] == "15" {
                    return format!("54{}{}", &nat[..area], &nat[area + 2..]);
                }
            }
        }
        return format!("54{nat}");
    }
    d
}

/// Both the exact digits and the folded key: two numbers match when their keys intersect.
pub fn match_keys(e164: &str) -> Vec<String> {
    let exact = digits(e164);
    let folded = fold(e164);
    if folded == exact {
        vec![exact]
    } else {
        vec![exact, folded]
    }
}

/// Do these two numbers reach the same WhatsApp line? `Some(true)` exact, `Some(false)`
/// through a fold, `None` not the same.
pub fn same_line(a: &str, b: &str) -> Option<bool> {
    let (da, db) = (digits(a), digits(b));
    if da == db {
        return Some(true);
    }
    (fold(a) == fold(b)).then_some(false)
}

/// What to send to a CRM's own phone search for one WhatsApp number: the E.164 form, its
/// digits, the national significant number, and the quirk alternates (BR ±9, MX 52/521,
/// AR 54/549), shortest first, deduplicated. CRMs store numbers every way; their search
/// does substring or exact matching, so several queries catch what one would miss.
pub fn search_variants(e164: &str) -> Vec<String> {
    let d = digits(e164);
    let mut alternates = vec![d.clone()];
    let folded = fold(e164);
    alternates.push(folded.clone());
    if let Some(nat) = folded.strip_prefix("55") {
        if nat.len() == 10 && matches!(nat.as_bytes()[2], b'6'..=b'9') {
            alternates.push(format!("55{}9{}", &nat[..2], &nat[2..]));
        }
    } else if let Some(nat) = folded.strip_prefix("52") {
        if nat.len() == 10 {
            alternates.push(format!("521{nat}"));
        }
    } else if let Some(nat) = folded.strip_prefix("54") {
        if nat.len() == 10 {
            alternates.push(format!("549{nat}"));
        }
    }
    let mut out: Vec<String> = Vec::new();
    for a in alternates {
        out.push(format!("+{a}"));
        out.push(a.clone());
        if let Ok(n) = PHONE_NUMBER_UTIL.parse(format!("+{a}"), None) {
            let nsn = n.get_national_significant_number();
            if nsn.len() >= 6 {
                out.push(nsn);
            }
        }
    }
    out.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_ways_reps_type_numbers() {
        let cases = [
            ("(11) 98765-4321", "BR", "+5511987654321"),
            ("+55 11 98765-4321", "US", "+5511987654321"),
            ("011 55 11 98765 4321", "US", "+5511987654321"),
            ("0044 20 7946 0958", "DE", "+442079460958"),
            ("+44 (0)20 7946 0958", "US", "+442079460958"),
            ("020 7946 0958", "GB", "+442079460958"),
            ("(415) 555-2671 ext. 12", "US", "+14155552671"),
            ("415.555.2671 x12", "US", "+14155552671"),
            ("(11) 3456-7890 ramal 23", "BR", "+551134567890"),
            ("+91-9876543210", "IN", "+919876543210"),
            ("９８７６５４３２１０", "IN", "+919876543210"),
            ("1-800-FLOWERS", "US", "+18003569377"),
            ("5511987654321", "US", "+5511987654321"), // retry as +digits
            ("8 912 345-67-89", "RU", "+79123456789"),
            ("89123456789", "US", "+79123456789"), // trunk 8 without the region
            ("044 55 1234 5678", "MX", "+525512345678"),
            ("(11) 8765-4321", "BR", "+5511987654321"), // pre-2016 mobile, as old CRMs hold it
            ("+52 1 55 1234 5678", "ZZ", "+525512345678"),
            ("+55 11 8765-4321", "US", "+5511987654321"),
            ("01 55 1234 5678", "MX", "+525512345678"),
        ];
        for (raw, region, want) in cases {
            assert_eq!(parse_one(raw, region).as_deref(), Ok(want), "{raw} ({region})");
        }
    }

    #[test]
    fn notes_idd_and_trunk_8_only_where_they_apply() {
        assert_eq!(
            parse_crm_phone("(415) 555-2671 (office)", "US"),
            Ok(vec!["+14155552671".to_string()])
        );
        assert_eq!(
            parse_crm_phone("+44 (0)20 7946 0958 (WhatsApp)", "ZZ"),
            Ok(vec!["+442079460958".to_string()])
        );
        assert_eq!(strip_notes("(11) 98765-4321 (casa) (0"), "(11) 98765-4321   (0");
        assert_eq!(parse_one("011 44 20 7946 0958", "FR").as_deref(), Ok("+442079460958"));
        assert_eq!(parse_one("0044 20 7946 0958", "US").as_deref(), Ok("+442079460958"));
        // An invalid international number is never re-read as Russian.
        assert!(parse_one("+88622123456", "ZZ").is_err());
        assert!(parse_one("+84210123456", "ZZ").is_err());
        assert_eq!(parse_one("(8) 912 345-67-89", "US").as_deref(), Ok("+79123456789"));
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        assert_eq!(parse_one("", "BR"), Err(PhoneError::Empty));
        assert!(matches!(parse_one("12", "BR"), Err(PhoneError::Invalid(_))));
        assert!(
            matches!(parse_one("020 7946 0958", "ZZ"), Err(PhoneError::Invalid(_))),
            "national number needs a region"
        );
        assert!(matches!(parse_one("123", "XX"), Err(PhoneError::UnknownRegion(_))));
        // A UK national number read as US must not become some other valid number.
        assert!(parse_one("020 7946 0958", "US").is_err());
    }

    #[test]
    fn splits_multi_number_fields() {
        assert_eq!(
            parse_crm_phone("(11) 98765-4321 / (11) 3456-7890; +1 415 555 2671", "BR").unwrap(),
            ["+5511987654321", "+551134567890", "+14155552671"]
        );
        assert_eq!(parse_crm_phone("garbage | (11) 98765-4321", "BR").unwrap(), ["+5511987654321"]);
        assert!(parse_crm_phone("n/a", "BR").is_err());
    }

    #[test]
    fn regions_of_numbers() {
        assert_eq!(region_of("+5511987654321").as_deref(), Some("BR"));
        assert_eq!(region_of("+551187654321").as_deref(), Some("BR"), "old 8-digit form");
        assert_eq!(region_of("+14155552671").as_deref(), Some("US"));
        assert_eq!(region_of("+999"), None);
    }

    #[test]
    fn reads_whatsapp_ids() {
        assert_eq!(parse_wa_id("5511987654321@c.us"), WaId::Phone("+5511987654321".into()));
        assert_eq!(
            parse_wa_id("5511987654321:12@s.whatsapp.net"),
            WaId::Phone("+5511987654321".into())
        );
        assert_eq!(
            parse_wa_id("5511987654321_1:3@s.whatsapp.net"),
            WaId::Phone("+5511987654321".into())
        );
        assert_eq!(parse_wa_id("14155552671@hosted"), WaId::Phone("+14155552671".into()));
        assert!(matches!(parse_wa_id("196271432331425@lid"), WaId::Lid(_)));
        assert!(matches!(parse_wa_id("120363025246125486@g.us"), WaId::Group(_)));
        assert!(matches!(parse_wa_id("12ab@c.us"), WaId::Invalid(_)));
        assert!(matches!(parse_wa_id("123@c.us"), WaId::Invalid(_)));
    }

    #[test]
    fn folds_quirks_both_ways_and_nothing_else() {
        // Brazil 9th digit.
        assert_eq!(same_line("+5511987654321", "+551187654321"), Some(false));
        assert_eq!(same_line("+551187654321", "+5511987654321"), Some(false));
        assert_eq!(same_line("+5521987654321", "+552187654321"), Some(false), "area 21 too");
        assert_eq!(same_line("+551134567890", "+5511934567890"), None, "landline 3xxx gains no 9");
        // Mexico 521 / 52.
        assert_eq!(same_line("+5215512345678", "+525512345678"), Some(false));
        // Argentina 549 / 54 and 15.
        assert_eq!(same_line("+5491123456789", "+541123456789"), Some(false));
        assert_eq!(same_line("+5491123456789", "+54111523456789"), Some(false));
        // Near misses that must not match.
        assert_eq!(same_line("+5511987654321", "+5511987654322"), None);
        assert_eq!(same_line("+5511987654321", "+5521987654321"), None, "other area code");
        assert_eq!(same_line("+14155552671", "+4155552671"), None);
        assert_eq!(same_line("+393331234567", "+39333123456"), None);
        assert_eq!(same_line("+525512345678", "+5255123456789"), None);
    }

    #[test]
    fn search_variants_are_short_first_and_unique() {
        let v = search_variants("+5511987654321");
        for want in [
            "+5511987654321",
            "5511987654321",
            "11987654321",
            "+551187654321",
            "551187654321",
            "1187654321",
        ] {
            assert!(v.contains(&want.to_string()), "{want} missing from {v:?}");
        }
        assert!(v.windows(2).all(|w| w[0].len() <= w[1].len()));
        let mut d = v.clone();
        d.dedup();
        assert_eq!(d, v);
        let mx = search_variants("+525512345678");
        assert!(mx.contains(&"+5215512345678".to_string()));
    }

    #[test]
    fn display_is_national_at_home_and_international_abroad() {
        assert_eq!(display("+5511987654321", "BR").as_deref(), Some("(11) 98765-4321"));
        assert_eq!(display("+5511987654321", "US").as_deref(), Some("+55 11 98765-4321"));
        assert_eq!(display("(11) 98765-4321", "BR").as_deref(), Some("(11) 98765-4321"));
        assert_eq!(display("+919876543210", "IN").as_deref(), Some("098765 43210"));
        assert_eq!(display("+14155550123", "BR").as_deref(), Some("+1 415-555-0123"));
        assert_eq!(display("call me", "BR"), None);
    }
}
