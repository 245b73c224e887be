//! Privacy before upload: sensitive numbers in a transcript are replaced, when it is
//! rendered for the CRM, by a marker that says what was removed ("[card number removed]").
//! The messages stored in the browser stay as they were; only what leaves the browser is
//! masked. Each kind is recognised by its structure and its check digits, so a phone
//! number or an order number is left alone:
//! - payment cards: 13–19 digits (grouped by spaces or hyphens), a card network's leading
//!   digit, Luhn checksum;
//! - Brazil: CPF (11 digits, two mod-11 check digits) and CNPJ (14 digits, two mod-11 check
//!   digits), plain or in their `000.000.000-00` / `00.000.000/0000-00` forms;
//! - India: Aadhaar (12 digits, first 2–9, Verhoeff checksum) and PAN (`AAAPA9999A`, the
//!   fourth letter a holder type);
//! - one-time codes: 4–8 digits on a line that names a code ("OTP", "code", "código", "कोड"…).
//!
//! The checksums are a few lines each (Luhn, mod 11, Verhoeff's tables): written here rather
//! than pulled in as four crates.
use serde::{Deserialize, Serialize};

/// What to mask. Cards are masked unless the rep turns it off; the rest is opt-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MaskRules {
    pub cards: bool,
    pub ids: bool,
    pub codes: bool,
}

impl Default for MaskRules {
    fn default() -> Self {
        MaskRules { cards: true, ids: false, codes: false }
    }
}

impl MaskRules {
    pub const NONE: MaskRules = MaskRules { cards: false, ids: false, codes: false };

    pub fn any(&self) -> bool {
        self.cards || self.ids || self.codes
    }
}

/// What a span was recognised as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Card,
    Cpf,
    Cnpj,
    Aadhaar,
    Pan,
    Code,
}

impl Kind {
    /// The marker left in the transcript.
    pub fn marker(self) -> &'static str {
        match self {
            Kind::Card => "[card number removed]",
            Kind::Cpf => "[CPF removed]",
            Kind::Cnpj => "[CNPJ removed]",
            Kind::Aadhaar => "[Aadhaar number removed]",
            Kind::Pan => "[PAN removed]",
            Kind::Code => "[one-time code removed]",
        }
    }
}

pub fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(*d);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    !digits.is_empty() && sum.is_multiple_of(10)
}

fn mod11_digit(digits: &[u8], weights: &[u32]) -> u8 {
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| u32::from(*d) * w).sum();
    let r = sum % 11;
    if r < 2 {
        0
    } else {
        (11 - r) as u8
    }
}

fn all_same(d: &[u8]) -> bool {
    d.iter().all(|x| *x == d[0])
}

pub fn cpf_ok(d: &[u8]) -> bool {
    if d.len() != 11 || all_same(d) {
        return false;
    }
    let w1: Vec<u32> = (2..=10).rev().collect();
    let w2: Vec<u32> = (2..=11).rev().collect();
    mod11_digit(&d[..9], &w1) == d[9] && mod11_digit(&d[..10], &w2) == d[10]
}

pub fn cnpj_ok(d: &[u8]) -> bool {
    if d.len() != 14 || all_same(d) {
        return false;
    }
    let w1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    let w2 = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    mod11_digit(&d[..12], &w1) == d[12] && mod11_digit(&d[..13], &w2) == d[13]
}

/// Verhoeff's dihedral-group checksum (the one Aadhaar numbers carry).
pub fn verhoeff(digits: &[u8]) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 8, 7, 6, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0u8;
    for (i, d) in digits.iter().rev().enumerate() {
        c = D[usize::from(c)][usize::from(P[i % 8][usize::from(*d)])];
    }
    !digits.is_empty() && c == 0
}

/// A run of digit groups: the groups' byte ranges and the separators between them.
struct Group {
    start: usize,
    end: usize,
}

/// The card networks' leading digits: 2 (Mastercard 2-series), 3 (Amex, Diners, JCB),
/// 4 (Visa, Elo), 5 (Mastercard, Elo), 6 (Discover, RuPay, Elo, UnionPay), 8 (RuPay 81/82).
fn card_prefix(d: &[u8]) -> bool {
    matches!(d[0], 2..=6) || (d[0] == 8 && matches!(d[1], 1 | 2))
}

/// What a candidate span (its text and digits) is, under the rules.
fn classify(span: &str, d: &[u8], rules: &MaskRules) -> Option<Kind> {
    let seps: Vec<char> = span.chars().filter(|c| !c.is_ascii_digit()).collect();
    let plain = seps.is_empty();
    let grouped_by = |allowed: &[char]| seps.iter().all(|c| allowed.contains(c));
    if rules.cards
        && (13..=19).contains(&d.len())
        && grouped_by(&[' ', '-'])
        && card_prefix(d)
        && luhn(d)
    {
        return Some(Kind::Card);
    }
    if rules.ids {
        if d.len() == 11 && (plain || is_shape(span, "ddd.ddd.ddd-dd")) && cpf_ok(d) {
            return Some(Kind::Cpf);
        }
        if d.len() == 14 && (plain || is_shape(span, "dd.ddd.ddd/dddd-dd")) && cnpj_ok(d) {
            return Some(Kind::Cnpj);
        }
        let aadhaar_shape =
            plain || is_shape(span, "dddd dddd dddd") || is_shape(span, "dddd-dddd-dddd");
        if d.len() == 12 && aadhaar_shape && d[0] >= 2 && verhoeff(d) {
            return Some(Kind::Aadhaar);
        }
    }
    None
}

/// Does `s` have exactly this shape (`d` = a digit, anything else = itself)?
fn is_shape(s: &str, shape: &str) -> bool {
    s.len() == shape.len()
        && s.bytes()
            .zip(shape.bytes())
            .all(|(c, p)| if p == b'd' { c.is_ascii_digit() } else { c == p })
}

/// Words that say a line carries a one-time code, lower case.
const CODE_WORDS: [&str; 14] = [
    "otp",
    "code",
    "código",
    "codigo",
    "verification",
    "verificação",
    "verificacao",
    "verificación",
    "passcode",
    "one-time",
    "pin",
    "कोड",
    "ओटीपी",
    "सत्यापन",
];

fn names_a_code(line: &str) -> bool {
    let lower = line.to_lowercase();
    CODE_WORDS.iter().any(|w| {
        lower.match_indices(w).any(|(i, _)| {
            let before = lower[..i].chars().next_back();
            let after = lower[i + w.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
    })
}

/// Mask `text` under `rules`; the text itself when nothing matched.
pub fn mask(text: &str, rules: &MaskRules) -> String {
    if !rules.any() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&mask_line(line, rules));
    }
    out
}

fn mask_line(line: &str, rules: &MaskRules) -> String {
    let b = line.as_bytes();
    let mut spans: Vec<(usize, usize, Kind)> = vec![];
    // Runs of digit groups joined by one separator each.
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit()
            || (i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'+'))
        {
            i += 1;
            continue;
        }
        let mut groups = vec![];
        let mut j = i;
        loop {
            let s = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            groups.push(Group { start: s, end: j });
            if j + 1 < b.len() && b" -./".contains(&b[j]) && b[j + 1].is_ascii_digit() {
                j += 1;
                continue;
            }
            break;
        }
        let run_end = j;
        // A number glued to letters is a reference or an id of something else.
        if run_end < b.len() && b[run_end].is_ascii_alphabetic() {
            i = run_end;
            continue;
        }
        // The longest sequence of whole groups from each group on that is a match.
        let mut g = 0;
        while g < groups.len() {
            let mut found = None;
            for h in (g..groups.len()).rev() {
                let span = &line[groups[g].start..groups[h].end];
                let d: Vec<u8> =
                    span.bytes().filter(u8::is_ascii_digit).map(|c| c - b'0').collect();
                if d.len() > 19 {
                    continue;
                }
                if let Some(k) = classify(span, &d, rules) {
                    found = Some((h, k));
                    break;
                }
            }
            match found {
                Some((h, k)) => {
                    spans.push((groups[g].start, groups[h].end, k));
                    g = h + 1;
                }
                None => g += 1,
            }
        }
        i = run_end.max(i + 1);
    }
    if rules.ids {
        spans.extend(pans(line));
    }
    if rules.codes && names_a_code(line) {
        for (s, e) in code_tokens(line) {
            if !spans.iter().any(|(a, z, _)| s < *z && e > *a) {
                spans.push((s, e, Kind::Code));
            }
        }
    }
    spans.sort_by_key(|s| s.0);
    let mut out = String::new();
    let mut at = 0;
    for (s, e, k) in spans {
        if s < at {
            continue;
        }
        out.push_str(&line[at..s]);
        out.push_str(k.marker());
        at = e;
    }
    out.push_str(&line[at..]);
    out
}

/// PANs: five letters, four digits, a letter; the fourth letter is the holder type
/// (P person, C company, H HUF, F firm, A AOP, T trust, B BOI, L local authority, J
/// artificial juridical person, G government). Upper case, on word boundaries.
fn pans(line: &str) -> Vec<(usize, usize, Kind)> {
    let b = line.as_bytes();
    let mut out = vec![];
    if b.len() < 10 {
        return out;
    }
    for i in 0..=b.len() - 10 {
        let w = &b[i..i + 10];
        let shape = w[..5].iter().all(u8::is_ascii_uppercase)
            && w[5..9].iter().all(u8::is_ascii_digit)
            && w[9].is_ascii_uppercase()
            && b"PCHFATBLJG".contains(&w[3]);
        let bounded = (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && (i + 10 == b.len() || !b[i + 10].is_ascii_alphanumeric());
        if shape && bounded {
            out.push((i, i + 10, Kind::Pan));
        }
    }
    out
}

/// Standalone 4–8 digit numbers (`482913`, `482 913`, `482-913`).
fn code_tokens(line: &str) -> Vec<(usize, usize)> {
    let b = line.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit()
            || (i > 0 && (b[i - 1].is_ascii_alphanumeric() || b"+.,:/".contains(&b[i - 1])))
        {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        // One space or hyphen inside a code, as apps print them ("482 913").
        if j + 1 < b.len() && (b[j] == b' ' || b[j] == b'-') && b[j + 1].is_ascii_digit() {
            let mut k = j + 1;
            while k < b.len() && b[k].is_ascii_digit() {
                k += 1;
            }
            if (j - i) == (k - j - 1) && (j - i) >= 3 {
                j = k;
            }
        }
        let n = line[i..j].bytes().filter(u8::is_ascii_digit).count();
        let glued = j < b.len() && (b[j].is_ascii_alphanumeric() || b"/:".contains(&b[j]));
        if (4..=8).contains(&n) && !glued {
            out.push((i, j));
        }
        i = j.max(i + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: MaskRules = MaskRules { cards: true, ids: true, codes: true };

    fn digits(s: &str) -> Vec<u8> {
        s.bytes().filter(u8::is_ascii_digit).map(|c| c - b'0').collect()
    }

    #[test]
    fn checksums_on_published_test_numbers() {
        // Test card numbers the networks publish for sandboxes.
        for card in [
            "4111111111111111",
            "5555555555554444",
            "378282246310005",
            "6011111111111117",
            "4012888888881881",
        ] {
            assert!(luhn(&digits(card)), "{card}");
        }
        assert!(!luhn(&digits("4111111111111112")));
        // A valid CPF and CNPJ (generated with their check digits), and near misses.
        assert!(cpf_ok(&digits("529.982.247-25")));
        assert!(!cpf_ok(&digits("529.982.247-24")));
        assert!(!cpf_ok(&digits("111.111.111-11")), "repeated digits pass mod 11 but are invalid");
        assert!(cnpj_ok(&digits("11.222.333/0001-81")));
        assert!(!cnpj_ok(&digits("11.222.333/0001-82")));
        // Verhoeff: the algorithm's worked example (236 → check digit 3) and a 12-digit number.
        assert!(verhoeff(&digits("2363")));
        assert!(!verhoeff(&digits("2364")));
        assert!(verhoeff(&digits("234123412346")));
        assert!(!verhoeff(&digits("234123412347")));
    }

    #[test]
    fn cards_are_masked_by_default_and_say_so() {
        let r = MaskRules::default();
        assert_eq!(
            mask("my card 4111 1111 1111 1111 exp 12/28", &r),
            "my card [card number removed] exp 12/28"
        );
        assert_eq!(mask("5555-5555-5555-4444", &r), "[card number removed]");
        assert_eq!(mask("amex 378282246310005.", &r), "amex [card number removed].");
        assert_eq!(mask("line one\n4012888888881881", &r), "line one\n[card number removed]");
        // Near misses stay: a wrong check digit, a phone number, too short, an order id.
        for keep in [
            "4111 1111 1111 1112",
            "+55 11 98765-4321",
            "call +1 415 555 0123 4",
            "411111111111",
            "order ABC4111111111111111",
            "4111111111111111XYZ",
            "tracking 1111 1111 1111 1111",
        ] {
            assert_eq!(mask(keep, &r), keep, "{keep}");
        }
        // The default masks cards only.
        assert_eq!(mask("CPF 529.982.247-25", &r), "CPF 529.982.247-25");
        assert_eq!(mask("4111111111111111", &MaskRules::NONE), "4111111111111111");
    }

    #[test]
    fn brazilian_and_indian_ids_when_asked() {
        assert_eq!(mask("CPF: 529.982.247-25", &ALL), "CPF: [CPF removed]");
        assert_eq!(mask("cpf 52998224725 ok", &ALL), "cpf [CPF removed] ok");
        assert_eq!(mask("CNPJ 11.222.333/0001-81", &ALL), "CNPJ [CNPJ removed]");
        assert_eq!(mask("11222333000181", &ALL), "[CNPJ removed]");
        assert_eq!(mask("Aadhaar 2341 2341 2346", &ALL), "Aadhaar [Aadhaar number removed]");
        assert_eq!(mask("PAN ABCPE1234F please", &ALL), "PAN [PAN removed] please");
        for keep in [
            "CPF 529.982.247-24",
            "529.982.247.25",
            "111.111.111-11",
            "11.222.333/0001-82",
            "2341 2341 2347",
            "1341 2341 2342",
            "ABCXE1234F",
            "abcpe1234f",
            "XABCPE1234F",
            "(11) 98765-4321",
        ] {
            assert_eq!(mask(keep, &ALL), keep, "{keep}");
        }
    }

    #[test]
    fn one_time_codes_only_on_a_line_that_names_a_code() {
        let r = MaskRules { codes: true, ..MaskRules::NONE };
        assert_eq!(mask("Your OTP is 482913", &r), "Your OTP is [one-time code removed]");
        assert_eq!(
            mask("Seu código de verificação: 482 913", &r),
            "Seu código de verificação: [one-time code removed]"
        );
        assert_eq!(mask("आपका OTP 4829 है", &r), "आपका OTP [one-time code removed] है");
        assert_eq!(mask("PIN: 1234", &r), "PIN: [one-time code removed]");
        for keep in [
            "meet at 1430 tomorrow",
            "spinning 123456",
            "code 123",
            "code 123456789",
            "code at 10:30",
            "barcode 482913",
            "codes 12/2026",
        ] {
            assert_eq!(mask(keep, &r), keep, "{keep}");
        }
    }
}
