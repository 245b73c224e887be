//! A selector table as data (ordered fallbacks per field) and a one-pass index of the
//! best match per field over a row's subtree, in and outside a quoted block.
use super::{attr_bit, El, CLASS_BIT};

#[derive(Clone, Copy, Debug)]
pub enum Sel {
    /// attribute equals (exact)
    Attr(&'static str, &'static str),
    /// attribute present
    Has(&'static str),
    /// attribute value contains (case-insensitive)
    AttrContains(&'static str, &'static str),
    /// attribute value starts with one of these (case-insensitive): localized labels
    AttrStartsAny(&'static str, &'static [&'static str]),
    Class(&'static str),
    Tag(&'static str),
    /// both (tag + something)
    TagAttrPrefix(&'static str, &'static str, &'static str),
}

impl Sel {
    /// The attribute this selector reads (None: the tag alone).
    fn key(&self) -> Option<&'static str> {
        match *self {
            Sel::Attr(k, _)
            | Sel::Has(k)
            | Sel::AttrContains(k, _)
            | Sel::AttrStartsAny(k, _)
            | Sel::TagAttrPrefix(_, k, _) => Some(k),
            Sel::Class(_) => Some("class"),
            Sel::Tag(_) => None,
        }
    }

    /// Whether an element with this tag, whose `key()` attribute has this value, matches.
    #[inline(always)]
    fn matches_value(&self, tag: &str, value: &str) -> bool {
        match *self {
            Sel::Attr(_, v) => value.len() == v.len() && value == v,
            Sel::Has(_) => true,
            // Needles are lowercase; compare without allocating (ASCII case folding: the
            // labels' first letters are ASCII in every language listed).
            Sel::AttrContains(_, v) => {
                value.as_bytes().windows(v.len()).any(|w| w.eq_ignore_ascii_case(v.as_bytes()))
            }
            Sel::AttrStartsAny(_, vs) => vs.iter().any(|v| {
                value.len() >= v.len()
                    && value.as_bytes()[..v.len()].eq_ignore_ascii_case(v.as_bytes())
            }),
            Sel::Class(c) => value.split_ascii_whitespace().any(|x| x == c),
            Sel::Tag(t) => tag == t,
            Sel::TagAttrPrefix(t, _, v) => tag == t && value.starts_with(v),
        }
    }

    pub fn matches(&self, e: &El) -> bool {
        match self.key() {
            Some(k) => e.attr(k).is_some_and(|v| self.matches_value(e.tag(), v)),
            None => self.matches_value(e.tag(), ""),
        }
    }
}

/// The first element under `root` matched by the earliest selector that matches anything.
pub fn first<'d, 'a>(root: El<'d, 'a>, sels: &[Sel]) -> Option<El<'d, 'a>> {
    sels.iter().find_map(|s| root.find(|e| s.matches(e)))
}

pub fn any(root: El, sels: &[Sel]) -> bool {
    first(root, sels).is_some()
}

/// The selector table turned inside out, once: per attribute, the (field, priority,
/// selector) entries that read it. A row element is then tested only against the
/// selectors of the attributes it has, with the attribute value already in hand.
struct Entry {
    field: usize,
    prio: u8,
    sel: Sel,
}

/// One attribute's entries: exact-value selectors with their value's length (only those of
/// the value's length can match: one integer compare skips the rest), the others.
#[derive(Default)]
struct Bucket {
    exact: Vec<(usize, Entry)>,
    rest: Vec<Entry>,
}

pub struct Dispatch<const N: usize> {
    /// By the bit position of `attr_bit` (attributes the parser tags).
    by_bit: Vec<Bucket>,
    /// `Sel::Class`: compared with each class token.
    classes: Vec<(Entry, &'static str)>,
    /// Tag-only selectors and attributes the parser does not tag: tried on every element.
    generic: Vec<Entry>,
    /// The field whose elements' subtrees are "inside the quote".
    quote: usize,
}

impl<const N: usize> Dispatch<N> {
    /// `fields[f]`: field f's selectors, best first. Elements matched by field `quote` open a
    /// subtree that `RowIndex::outside_quote` does not look into.
    pub fn new(fields: &[&'static [Sel]; N], quote: usize) -> Self {
        let mut d = Dispatch {
            by_bit: (0..32).map(|_| Bucket::default()).collect(),
            classes: Vec::new(),
            generic: Vec::new(),
            quote,
        };
        for (field, sels) in fields.iter().enumerate() {
            for (prio, &sel) in sels.iter().enumerate() {
                let e = Entry { field, prio: prio.min(255) as u8, sel };
                match (sel, sel.key().map(attr_bit)) {
                    (Sel::Class(c), _) => d.classes.push((e, c)),
                    (Sel::Attr(_, v), Some(bit)) if bit != 0 => {
                        d.by_bit[bit.trailing_zeros() as usize].exact.push((v.len(), e))
                    }
                    (_, Some(bit)) if bit != 0 => {
                        d.by_bit[bit.trailing_zeros() as usize].rest.push(e)
                    }
                    _ => d.generic.push(e),
                }
            }
        }
        d
    }
}

/// One pass over a row: for every field, the first element (document order) matched by
/// its highest-priority selector, both anywhere and outside the quoted message.
pub struct RowIndex<'d, 'a, const N: usize> {
    any: [Option<(u8, El<'d, 'a>)>; N],
    outside: [Option<(u8, El<'d, 'a>)>; N],
    quote: usize,
}

impl<'d, 'a, const N: usize> RowIndex<'d, 'a, N> {
    pub fn build(d: &Dispatch<N>, row: El<'d, 'a>) -> Self {
        let mut ix = RowIndex { any: [None; N], outside: [None; N], quote: d.quote };
        // Elements before this index are inside a quoted message.
        let mut quote_end = 0;
        for el in row.descendants() {
            let in_quote = el.index() < quote_end;
            let tag = el.tag();
            let mut is_quote = false;
            let mut seen = 0;
            for (bit, _, value) in el.attrs() {
                // Unknown names have no entries; a repeated attribute counts once (the first).
                if bit == 0 || seen & bit != 0 {
                    continue;
                }
                seen |= bit;
                if bit == CLASS_BIT {
                    // Tokens by hand: this runs for nearly every element of every row.
                    let v = value.as_bytes();
                    let mut i = 0;
                    while i < v.len() {
                        if v[i].is_ascii_whitespace() {
                            i += 1;
                            continue;
                        }
                        let start = i;
                        while i < v.len() && !v[i].is_ascii_whitespace() {
                            i += 1;
                        }
                        let token = &v[start..i];
                        for (e, c) in &d.classes {
                            if token.len() == c.len() {
                                is_quote |= ix.offer(e, el, in_quote, || token == c.as_bytes());
                            }
                        }
                    }
                }
                let bucket = &d.by_bit[bit.trailing_zeros() as usize];
                for (len, e) in &bucket.exact {
                    if *len == value.len() {
                        is_quote |= ix.offer(e, el, in_quote, || e.sel.matches_value(tag, value));
                    }
                }
                for e in &bucket.rest {
                    is_quote |= ix.offer(e, el, in_quote, || e.sel.matches_value(tag, value));
                }
            }
            for e in &d.generic {
                is_quote |= ix.offer(e, el, in_quote, || e.sel.matches(&el));
            }
            // Every quote's subtree is excluded, not only the first one's.
            if is_quote {
                quote_end = quote_end.max(el.end());
            }
        }
        ix
    }

    /// Record `el` for the entry's field if it is better than what was found so far and
    /// `matches`; says whether it is a quoted message.
    #[inline(always)]
    fn offer(
        &mut self,
        e: &Entry,
        el: El<'d, 'a>,
        in_quote: bool,
        matches: impl FnOnce() -> bool,
    ) -> bool {
        let better_any = self.any[e.field].is_none_or(|(p, _)| e.prio < p);
        let better_out = !in_quote && self.outside[e.field].is_none_or(|(p, _)| e.prio < p);
        if !(better_any || better_out || e.field == self.quote) || !matches() {
            return false;
        }
        if better_any {
            self.any[e.field] = Some((e.prio, el));
        }
        if better_out {
            self.outside[e.field] = Some((e.prio, el));
        }
        e.field == self.quote
    }

    pub fn get(&self, field: usize) -> Option<El<'d, 'a>> {
        self.any.get(field).copied().flatten().map(|(_, e)| e)
    }

    pub fn has(&self, field: usize) -> bool {
        self.get(field).is_some()
    }

    /// Not inside the quoted message (a reply's quote has its own body, author, image).
    pub fn outside_quote(&self, field: usize) -> Option<El<'d, 'a>> {
        self.outside.get(field).copied().flatten().map(|(_, e)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    const QUOTE: &[Sel] = &[Sel::Attr("data-testid", "quote")];
    const BODY: &[Sel] = &[
        Sel::Attr("data-testid", "body"),
        Sel::Class("text"),
        Sel::AttrStartsAny("dir", &["ltr", "rtl"]),
    ];
    const LINK: &[Sel] = &[Sel::TagAttrPrefix("a", "href", "https:"), Sel::Tag("a")];
    // `data-x` is not an attribute the parser tags: the generic path.
    const CUSTOM: &[Sel] = &[Sel::AttrContains("data-x", "needle")];
    const FIELDS: [&[Sel]; 4] = [QUOTE, BODY, LINK, CUSTOM];

    fn text_of(e: Option<El>) -> Option<String> {
        e.map(|e| e.text())
    }

    #[test]
    fn best_selector_first_then_document_order_and_quotes_apart() {
        let d = Dispatch::new(&FIELDS, 0);
        let doc = parse(
            r#"<div><span dir="ltr">by dir</span><div data-testid="quote"><span class="text">quoted</span><span data-testid="body">quoted body</span></div>
            <span class="x text">by class</span><span class="text">later</span><a href="http:x">plain</a><a HREF="https://x">secure</a>
            <i data-x="a NEEDLE b">custom</i><b class="text" class="other">dup</b></div>"#,
        );
        let ix = RowIndex::build(&d, doc.root().unwrap());
        // Anywhere: the best selector wins even inside the quote.
        assert_eq!(text_of(ix.get(1)).as_deref(), Some("quoted body"));
        // Outside the quote: the quote's subtree is skipped; class beats dir, first in order.
        assert_eq!(text_of(ix.outside_quote(1)).as_deref(), Some("by class"));
        assert_eq!(text_of(ix.get(0)).as_deref(), Some("quotedquoted body"));
        assert_eq!(text_of(ix.get(2)).as_deref(), Some("secure"));
        assert_eq!(text_of(ix.get(3)).as_deref(), Some("custom"));
        assert!(ix.has(3) && !RowIndex::build(&d, parse("<p data-x=hay>").root().unwrap()).has(3));
    }

    #[test]
    fn every_quote_is_excluded_and_first_helpers_agree() {
        let d = Dispatch::new(&FIELDS, 0);
        let doc = parse(
            r#"<div><p data-testid="quote"><b class="text">q1</b></p><p data-testid="quote"><b class="text">q2</b></p><b dir="rtl">own</b></div>"#,
        );
        let root = doc.root().unwrap();
        let ix = RowIndex::build(&d, root);
        assert_eq!(text_of(ix.outside_quote(1)).as_deref(), Some("own"));
        assert_eq!(text_of(ix.get(1)).as_deref(), Some("q1"));
        assert_eq!(text_of(first(root, BODY)).as_deref(), Some("q1"));
        assert!(any(root, QUOTE) && !any(root, CUSTOM));
    }
}
