//! A flat element table over browser-serialized HTML (`outerHTML`), strings borrowed from
//! the input, entities decoded, and a one-pass index of a selector table over it (`select`).
//! crmsync's WhatsApp scraper walks this instead of the live DOM so that one read per scan
//! crosses the wasm boundary, and so the same code runs natively and in fuzzing.
//!
//! Its own crate so that this hot path can be compiled for speed while the rest of the
//! extension is compiled for size (see the workspace's release profile).
//!
//! Nodes are stored in document order in one vector, each element knowing where its
//! subtree ends: a subtree is a range, searching it is a loop (no recursion, no per-node
//! child vectors to allocate and free). A 2,000-row scan allocates a few growing vectors
//! plus the few strings that entity decoding or lowercasing changed.
pub mod select;

use std::borrow::Cow;

/// `s` with entities decoded; `amp` says whether it has any `&` at all.
#[inline(always)]
fn decode(s: &str, amp: bool) -> Cow<'_, str> {
    if amp {
        Cow::Owned(decode_serialized(s))
    } else {
        Cow::Borrowed(s)
    }
}

/// Decodes the references a browser's HTML serializer writes, and numeric ones.
///
/// `outerHTML` escapes only `&`, U+00A0, and `<` `>` in text or `"` in attribute values
/// (HTML Standard, "Serializing HTML fragments", escaping a string); `&#39;` and `&apos;` are
/// taken too. Any other reference is left as written. Hand-written rather than
/// `html_escape::decode_html_entities`: its table of all 2,231 named references was over a
/// third of the content script's module; the test `decodes_what_the_serializer_writes_as_html_escape_does` holds
/// this decoder to that crate on every reference a serializer can write.
pub fn decode_serialized(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.as_bytes().iter().take(12).position(|&b| b == b';');
        let decoded = end.and_then(|end| reference(&rest[1..end]).map(|c| (c, end)));
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character a reference's name (between `&` and `;`) stands for, if this decoder knows it.
fn reference(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "nbsp" => Some('\u{a0}'),
        "apos" => Some('\''),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse::<u32>().ok()?,
            };
            // As browsers parse them: NUL, surrogates and out-of-range code points are U+FFFD.
            Some(char::from_u32(code).filter(|&c| c != '\0').unwrap_or('\u{fffd}'))
        }
    }
}

#[inline(always)]
fn lower(s: &str, upper: bool) -> Cow<'_, str> {
    if upper {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// Bytes that end a tag or attribute name.
const NAME_END: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 6 {
        t[[b' ', b'\t', b'\n', b'\r', b'\x0c', b'/'][i] as usize] = true;
        i += 1;
    }
    t[b'>' as usize] = true;
    t[b'=' as usize] = true;
    t
};

/// From `i`, the index of the first `stop` byte (or the end), and whether a `&` came before
/// it. Text and attribute values are most of the input: `memchr` scans them a word at a time.
#[inline(always)]
fn until(b: &[u8], i: usize, stop: u8) -> (usize, bool) {
    let rest = &b[i.min(b.len())..];
    match memchr::memchr2(stop, b'&', rest) {
        Some(k) if rest[k] == b'&' => {
            (memchr::memchr(stop, &rest[k..]).map_or(b.len(), |j| i + k + j), true)
        }
        Some(k) => (i + k, false),
        None => (b.len(), false),
    }
}

/// Attribute names the selectors look at, as bits: an element is tested only against the
/// selectors whose attribute it has (most elements carry just a class). Computed once per
/// attribute while parsing.
#[inline(always)]
pub fn attr_bit(name: &str) -> u32 {
    const NAMES: [&str; 13] = [
        "class",
        "data-testid",
        "data-icon",
        "aria-label",
        "data-pre-plain-text",
        "role",
        "dir",
        "src",
        "href",
        "title",
        "data-id",
        "data-plain-text",
        "alt",
    ];
    // Lengths first: one integer compare rejects most names without a string compare.
    NAMES.iter().position(|n| n.len() == name.len() && *n == name).map_or(0, |k| 1 << k)
}
pub const CLASS_BIT: u32 = 1;
pub const DATA_ID_BIT: u32 = 1 << 10;
const DATA_PLAIN_TEXT_BIT: u32 = 1 << 11;
const ALT_BIT: u32 = 1 << 12;

/// Deeper trees than this are flattened (hostile or broken markup must not make closing
/// tags quadratic).
const MAX_DEPTH: usize = 256;

/// Elements that never have children or an end tag.
const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];
/// Elements whose content is raw text up to their end tag.
const RAW: [&str; 4] = ["script", "style", "textarea", "title"];

struct Attr<'a> {
    name: Cow<'a, str>,
    value: Cow<'a, str>,
    bit: u32,
}

/// An element (its lowercase tag) or a text node (its decoded text).
struct Node<'a> {
    s: Cow<'a, str>,
    is_el: bool,
    /// Union of `attr_bit` over the element's attributes.
    mask: u32,
    attrs: (u32, u32),
    /// One past the last node of this subtree.
    end: u32,
}

/// A parsed fragment.
pub struct Doc<'a> {
    nodes: Vec<Node<'a>>,
    attrs: Vec<Attr<'a>>,
}

/// Parse a fragment. Malformed input yields what could be read.
///
/// Why not a general HTML parser crate: the input is always `outerHTML`, which browsers
/// serialize regularly (quoted attributes, escaped text, closed elements), and a full scan
/// of a long chat parses a megabyte on the page's main thread. This single pass builds the
/// flat table directly, several times faster than `tl` plus a conversion (measured with
/// `cargo run --release --example scan_profile`). It accepts any input (fuzzed): stray `<`,
/// unclosed tags, unbalanced end tags, deep nesting.
pub fn parse(html: &str) -> Doc<'_> {
    parse_part(html, 0, usize::MAX).0
}

/// Parse `html` from byte `from` (where a top-level node starts) until at least `min_bytes`
/// were read and the elements open at the end have all closed: a long list's HTML read once
/// and parsed a run of whole rows at a time, each its own `Doc`. Returns the part and where
/// the next starts (`html.len()` at the end). Parts together hold what one `parse` would,
/// split between top-level nodes.
pub fn parse_part(html: &str, from: usize, min_bytes: usize) -> (Doc<'_>, usize) {
    let b = html.as_bytes();
    let mut from = from.min(b.len());
    while !html.is_char_boundary(from) {
        from += 1;
    }
    let stop = from.saturating_add(min_bytes);
    let len = b.len().min(stop.saturating_add(4096)) - from;
    // Browser HTML of chat rows: about one node per 40 bytes, one attribute per 60.
    let mut doc =
        Doc { nodes: Vec::with_capacity(len / 40 + 4), attrs: Vec::with_capacity(len / 60 + 4) };
    let mut p = Parser { s: html, b, i: from };
    // Indices of the open elements.
    let mut stack: Vec<u32> = Vec::new();
    while p.i < b.len() {
        if p.i >= stop && p.i > from && stack.is_empty() {
            break;
        }
        if b[p.i] != b'<' {
            let start = p.i;
            let (end, amp) = until(b, p.i, b'<');
            p.i = end;
            doc.push_text(decode(&html[start..end], amp));
            continue;
        }
        let rest = &b[p.i..];
        // One look at the byte after '<' (most are tag names) before any prefix test.
        let next = rest.get(1).copied().unwrap_or(0);
        if next.is_ascii_alphabetic() {
            // An open tag: handled below.
        } else if rest.starts_with(b"<!--") {
            p.i = find(&b[p.i + 4..], b"-->").map(|k| p.i + 4 + k + 3).unwrap_or(b.len());
            continue;
        } else if next == b'/' {
            let end = memchr(b'>', rest).map(|k| p.i + k + 1).unwrap_or(b.len());
            let name_end = if end > p.i + 2 && b[end - 1] == b'>' { end - 1 } else { end };
            let name = html[p.i + 2..name_end.max(p.i + 2)].trim_ascii();
            let odd = |c: Option<char>| c.is_some_and(char::is_whitespace);
            let name = if odd(name.chars().next()) || odd(name.chars().next_back()) {
                name.trim()
            } else {
                name
            };
            p.i = end;
            // Close up to the matching open element; an unmatched end tag is ignored.
            if let Some(pos) =
                stack.iter().rposition(|&e| doc.nodes[e as usize].s.eq_ignore_ascii_case(name))
            {
                let here = doc.nodes.len() as u32;
                for e in stack.drain(pos..) {
                    doc.nodes[e as usize].end = here;
                }
            }
            continue;
        } else if next == b'!' || next == b'?' {
            p.i = memchr(b'>', rest).map(|k| p.i + k + 1).unwrap_or(b.len());
            continue;
        }
        let Some(self_closing) = p.tag(&mut doc) else {
            // A '<' that starts no tag is text.
            doc.push_text(Cow::Borrowed("<"));
            p.i += 1;
            continue;
        };
        let el = doc.nodes.len() - 1;
        let tag = doc.nodes[el].s.as_ref();
        if let Some(raw) = RAW.iter().find(|r| **r == tag) {
            let close_tag = format!("</{raw}");
            let end = find_ci(&b[p.i..], close_tag.as_bytes()).map(|k| p.i + k).unwrap_or(b.len());
            doc.push_text(Cow::Borrowed(&html[p.i..end]));
            p.i = memchr(b'>', &b[end..]).map(|k| end + k + 1).unwrap_or(b.len());
            doc.nodes[el].end = doc.nodes.len() as u32;
        } else if !(self_closing || VOID.contains(&tag) || stack.len() >= MAX_DEPTH) {
            stack.push(el as u32);
        }
    }
    let here = doc.nodes.len() as u32;
    for e in stack {
        doc.nodes[e as usize].end = here;
    }
    (doc, p.i)
}

impl<'a> Doc<'a> {
    #[inline(always)]
    fn push_text(&mut self, s: Cow<'a, str>) {
        let end = self.nodes.len() as u32 + 1;
        self.nodes.push(Node { s, is_el: false, mask: 0, attrs: (0, 0), end });
    }

    #[inline(always)]
    fn el(&self, i: u32) -> Option<El<'_, 'a>> {
        self.nodes.get(i as usize).filter(|n| n.is_el).map(|_| El { doc: self, i })
    }

    /// The top-level elements, in order.
    pub fn top(&self) -> impl Iterator<Item = El<'_, 'a>> {
        Siblings { doc: self, next: 0, end: self.nodes.len() as u32 }
    }

    /// The first top-level element (a row's outerHTML has exactly one).
    pub fn root(&self) -> Option<El<'_, 'a>> {
        self.top().next()
    }

    /// Node `i` of the document: `Some(Some(el))` for an element, `Some(None)` for a text
    /// node, None past the end. With `El::end` a caller can step over whole subtrees.
    pub fn node_at(&self, i: u32) -> Option<Option<El<'_, 'a>>> {
        self.nodes.get(i as usize).map(|n| n.is_el.then_some(El { doc: self, i }))
    }

    /// Every element in document order.
    pub fn elements(&self) -> impl Iterator<Item = El<'_, 'a>> {
        (0..self.nodes.len() as u32).filter_map(move |i| self.el(i))
    }
}

/// A parsed element: a cheap handle into its `Doc`.
#[derive(Clone, Copy)]
pub struct El<'d, 'a> {
    doc: &'d Doc<'a>,
    i: u32,
}

impl std::fmt::Debug for El<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} #{}>", self.tag(), self.i)
    }
}

impl PartialEq for El<'_, '_> {
    fn eq(&self, o: &Self) -> bool {
        std::ptr::eq(self.doc, o.doc) && self.i == o.i
    }
}

struct Siblings<'d, 'a> {
    doc: &'d Doc<'a>,
    next: u32,
    end: u32,
}

impl<'d, 'a> Iterator for Siblings<'d, 'a> {
    type Item = El<'d, 'a>;
    #[inline(always)]
    fn next(&mut self) -> Option<El<'d, 'a>> {
        while self.next < self.end {
            let i = self.next;
            let n = &self.doc.nodes[i as usize];
            self.next = n.end.max(i + 1);
            if n.is_el {
                return Some(El { doc: self.doc, i });
            }
        }
        None
    }
}

impl<'d, 'a> El<'d, 'a> {
    #[inline(always)]
    fn node(&self) -> &'d Node<'a> {
        &self.doc.nodes[self.i as usize]
    }

    #[inline(always)]
    pub fn tag(&self) -> &'d str {
        &self.node().s
    }

    /// Union of `attr_bit` over this element's attributes.
    #[inline(always)]
    pub fn mask(&self) -> u32 {
        self.node().mask
    }

    /// One past the index of the last node in this subtree.
    #[inline(always)]
    pub fn end(&self) -> u32 {
        self.node().end
    }

    #[inline(always)]
    pub fn index(&self) -> u32 {
        self.i
    }

    pub fn attr(&self, name: &str) -> Option<&'d str> {
        // A name with a bit is looked up by it: the mask rules out most elements at once.
        let bit = attr_bit(name);
        if bit != 0 {
            return self.attr_by_bit(bit);
        }
        let (a, b) = self.node().attrs;
        self.doc.attrs[a as usize..b as usize]
            .iter()
            .find(|x| x.name == name)
            .map(|x| x.value.as_ref())
    }

    /// The value of the attribute `attr_bit` tags with `bit` (a known name), if present.
    #[inline(always)]
    pub fn attr_by_bit(&self, bit: u32) -> Option<&'d str> {
        let n = self.node();
        if n.mask & bit == 0 {
            return None;
        }
        self.doc.attrs[n.attrs.0 as usize..n.attrs.1 as usize]
            .iter()
            .find(|x| x.bit == bit)
            .map(|x| x.value.as_ref())
    }

    /// (`attr_bit` of the name, name, value) of every attribute, in source order.
    pub fn attrs(&self) -> impl Iterator<Item = (u32, &'d str, &'d str)> {
        let (a, b) = self.node().attrs;
        self.doc.attrs[a as usize..b as usize]
            .iter()
            .map(|x| (x.bit, x.name.as_ref(), x.value.as_ref()))
    }

    pub fn has_class(&self, class: &str) -> bool {
        self.attr_by_bit(CLASS_BIT).is_some_and(|c| c.split_ascii_whitespace().any(|x| x == class))
    }

    /// The child elements.
    pub fn elements(&self) -> impl Iterator<Item = El<'d, 'a>> {
        Siblings { doc: self.doc, next: self.i + 1, end: self.end() }
    }

    /// Self and every descendant element, in document order.
    pub fn descendants(&self) -> impl DoubleEndedIterator<Item = El<'d, 'a>> {
        let doc = self.doc;
        (self.i..self.end()).filter_map(move |i| doc.el(i))
    }

    /// The first of self and its descendants (document order) matching `pred`.
    pub fn find(&self, pred: impl Fn(&El) -> bool) -> Option<El<'d, 'a>> {
        self.descendants().find(|e| pred(e))
    }

    pub fn find_all(&self, pred: impl Fn(&El) -> bool, out: &mut Vec<El<'d, 'a>>) {
        out.extend(self.descendants().filter(|e| pred(e)));
    }

    /// The visible text: text nodes in order, emoji images as their `alt`, `data-plain-text`
    /// nodes as that value. Never includes attribute text of other elements.
    pub fn text(&self) -> String {
        self.text_cow().into_owned()
    }

    /// `text`, borrowed from the document when it is a single piece (a leaf's one text node,
    /// the usual case): the scan reads every leaf of every row, and most need no copy.
    pub fn text_cow(&self) -> Cow<'d, str> {
        let mut first: Option<&'d str> = None;
        let mut out = String::new();
        let mut push = |piece: &'d str| {
            if piece.is_empty() {
                return;
            }
            match first {
                None if out.is_empty() => first = Some(piece),
                None => out.push_str(piece),
                Some(f) => {
                    out.push_str(f);
                    out.push_str(piece);
                    first = None;
                }
            }
        };
        let nodes = &self.doc.nodes;
        let end = self.end() as usize;
        let mut i = self.i as usize;
        while i < end {
            let n = &nodes[i];
            i += 1;
            if !n.is_el {
                push(&n.s);
                continue;
            }
            let e = El { doc: self.doc, i: i as u32 - 1 };
            let replaced = if n.mask & DATA_PLAIN_TEXT_BIT != 0 {
                e.attr_by_bit(DATA_PLAIN_TEXT_BIT)
            } else if n.s == "img" {
                Some(e.attr_by_bit(ALT_BIT).unwrap_or(""))
            } else if n.s == "br" {
                Some("\n")
            } else {
                None
            };
            if let Some(r) = replaced {
                push(r);
                i = (n.end as usize).max(i);
            }
        }
        match first {
            Some(f) => Cow::Borrowed(f),
            None => Cow::Owned(out),
        }
    }
}

use memchr::memchr;

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    #[inline(always)]
    fn skip_ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    /// A tag or attribute name, lowercased. Offsets always stop at ASCII delimiters, so
    /// slicing `s` never splits a UTF-8 sequence.
    #[inline(always)]
    fn name(&mut self) -> Cow<'a, str> {
        let start = self.i;
        let mut upper = false;
        while self.i < self.b.len() && !NAME_END[self.b[self.i] as usize] {
            upper |= self.b[self.i].is_ascii_uppercase();
            self.i += 1;
        }
        lower(&self.s[start..self.i], upper)
    }

    /// An open tag at `<`: pushes its element onto `doc` and says whether it ended with `/>`.
    /// None (and nothing pushed) if not a tag.
    ///
    /// Not inlined into `parse_part`, on purpose (nor by wasm-opt in the content module, see
    /// `CONTENT_OPT` in build.sh): V8 counts code run against a per-function tier-up budget,
    /// and with this inlined, the parse loop used it up and set off an optimizing compile of
    /// all of `parse_part` (about 40 ms of a second core) within the first rows of every cold
    /// start; out of line, this smaller function tiers up on its own, and its optimized code
    /// serves the rest of the scan.
    #[inline(never)]
    fn tag(&mut self, doc: &mut Doc<'a>) -> Option<bool> {
        let save = self.i;
        self.i += 1;
        if !self.b.get(self.i).is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i = save;
            return None;
        }
        let tag = self.name();
        let first_attr = doc.attrs.len() as u32;
        let mut mask = 0;
        let self_closing = loop {
            self.skip_ws();
            match self.b.get(self.i) {
                None => break false,
                Some(b'>') => {
                    self.i += 1;
                    break false;
                }
                Some(b'/') => {
                    self.i += 1;
                    if self.b.get(self.i) == Some(&b'>') {
                        self.i += 1;
                        break true;
                    }
                }
                Some(_) => {
                    let name = self.name();
                    if name.is_empty() {
                        self.i += 1; // a stray '=' : skip it
                        continue;
                    }
                    self.skip_ws();
                    let value = if self.b.get(self.i) == Some(&b'=') {
                        self.i += 1;
                        self.skip_ws();
                        match self.b.get(self.i) {
                            Some(&q) if q == b'"' || q == b'\'' => {
                                let start = self.i + 1;
                                let (end, amp) = until(self.b, start, q);
                                self.i = (end + 1).min(self.b.len());
                                decode(&self.s[start..end], amp)
                            }
                            _ => {
                                let start = self.i;
                                while self.i < self.b.len()
                                    && !self.b[self.i].is_ascii_whitespace()
                                    && self.b[self.i] != b'>'
                                {
                                    self.i += 1;
                                }
                                let v = &self.s[start..self.i];
                                decode(v, v.contains('&'))
                            }
                        }
                    } else {
                        Cow::Borrowed("")
                    };
                    let bit = attr_bit(&name);
                    mask |= bit;
                    doc.attrs.push(Attr { name, value, bit });
                }
            }
        };
        let at = doc.nodes.len() as u32;
        doc.nodes.push(Node {
            s: tag,
            is_el: true,
            mask,
            attrs: (first_attr, doc.attrs.len() as u32),
            end: at + 1,
        });
        Some(self_closing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_the_serializer_writes_as_html_escape_does() {
        // Every escape the serializer writes, numeric references, and things that are not a
        // known reference (kept as written by both).
        let inputs = [
            "a &amp; b",
            "&lt;b&gt;x&lt;/b&gt;",
            "say &quot;hi&quot;",
            "1&nbsp;000",
            "it&#39;s",
            "&apos;q&apos;",
            "&#233;t&#xE9;",
            "&#x1F600; &#128512;",
            "&amp;amp;",
            "AT&T",
            "a & b",
            "&unknownref; &",
            "&#;",
            "&#x;",
            "&am",
            "trailing &",
            "&amp",
            "Olá &amp; tchau&nbsp;&lt;3",
            "&#X41;",
        ];
        for s in inputs {
            assert_eq!(decode_serialized(s), html_escape::decode_html_entities(s), "{s:?}");
        }
        // Where the full table would decode a name the serializer never writes, this keeps it.
        assert_eq!(decode_serialized("&eacute;"), "&eacute;");
        // A reference right after a bare `&` decodes, as a browser parses it (html_escape
        // keeps `&&amp;` as written).
        assert_eq!(decode_serialized("&&amp;&"), "&&&");
        assert_eq!(decode_serialized("&#0;&#xD800;&#x110000;"), "\u{fffd}\u{fffd}\u{fffd}");
    }

    #[test]
    fn decodes_entities_and_keeps_structure() {
        let doc = parse(
            r#"<div class="a b" data-x="1 &amp; 2"><span>&lt;b&gt;hi&lt;/b&gt;&nbsp;<img class="emoji" alt="😀"></span><!-- c --></div>"#,
        );
        let d = doc.root().unwrap();
        assert!(d.has_class("b"));
        assert_eq!(d.attr("data-x"), Some("1 & 2"));
        assert_eq!(d.text(), "<b>hi</b>\u{a0}😀");
        let span = d.elements().next().unwrap();
        assert_eq!((span.tag(), span.elements().count()), ("span", 1));
    }

    #[test]
    fn subtrees_end_where_the_markup_closes_them() {
        let doc = parse(
            r#"<A Href=x><b>1<br>2</b><i data-plain-text="P">ignored</i>3</a><p>4<p>5</p>tail"#,
        );
        let top: Vec<&str> = doc.top().map(|e| e.tag()).collect();
        assert_eq!(top, ["a", "p"]);
        let a = doc.root().unwrap();
        assert_eq!(a.attr("href"), Some("x"));
        assert_eq!(a.text(), "1\n2P3");
        assert_eq!(a.elements().map(|e| e.tag()).collect::<Vec<_>>(), ["b", "i"]);
        // `</p>` closes the innermost open p; the outer one runs to the end.
        let p = doc.top().nth(1).unwrap();
        assert_eq!(p.text(), "45tail");
        assert_eq!(a.find(|e| e.tag() == "br").map(|e| e.tag()), Some("br"));
    }

    #[test]
    fn text_cow_borrows_one_piece_and_joins_several_as_text_does() {
        let doc = parse(
            r#"<div><span>9:<!-- -->34 pm</span><i>one</i><img alt="😀"><b></b><br><p data-plain-text="P">x</p></div>"#,
        );
        for e in doc.elements() {
            assert_eq!(e.text_cow(), e.text(), "{e:?}");
        }
        let span = doc.elements().nth(1).unwrap();
        assert_eq!(span.text_cow(), "9:34 pm");
        assert!(matches!(span.text_cow(), Cow::Owned(_)), "two text nodes are joined");
        let i = doc.elements().nth(2).unwrap();
        assert!(matches!(i.text_cow(), Cow::Borrowed("one")), "a single text node is not copied");
        let b = doc.elements().nth(4).unwrap();
        assert_eq!(b.text_cow(), "");
    }

    /// What a parse holds, element by element: tag, attributes, text, children's tags.
    fn shape(docs: &[Doc]) -> Vec<String> {
        docs.iter()
            .flat_map(|d| d.top())
            .flat_map(|t| t.descendants().collect::<Vec<_>>())
            .map(|e| {
                let attrs: Vec<String> = e.attrs().map(|(_, k, v)| format!("{k}={v}")).collect();
                let kids: Vec<&str> = e.elements().map(|c| c.tag()).collect();
                format!("{} {attrs:?} {:?} {kids:?}", e.tag(), e.text())
            })
            .collect()
    }

    #[test]
    fn parts_hold_what_one_parse_holds() {
        let row = |i: usize| {
            format!(
                r#"<div role="row"><div data-id="K{i}" class="m &amp; n"><span dir="ltr">Olá {i} &lt;3</span><br><img alt="😀"><!-- c --></div></div>"#
            )
        };
        let html: String = (0..50).map(row).collect::<Vec<_>>().join("\n");
        let whole = parse(&html);
        for min_bytes in [0, 1, 100, 333, 1000, usize::MAX] {
            let (mut parts, mut from) = (Vec::new(), 0);
            while from < html.len() {
                let (doc, next) = parse_part(&html, from, min_bytes);
                assert!(next > from, "a part always moves on");
                parts.push(doc);
                from = next;
            }
            assert_eq!(
                shape(&parts),
                shape(std::slice::from_ref(&whole)),
                "{min_bytes} bytes a part"
            );
            let rows: usize = parts.iter().map(|d| d.top().count()).sum();
            assert_eq!(rows, 50, "no row is split between parts ({min_bytes})");
            if min_bytes == 1000 {
                assert!(parts.len() > 5, "parts are about min_bytes long");
            }
        }
        // A start inside a character moves to the next whole one.
        let (doc, next) = parse_part("é<b>x</b>", 1, 0);
        assert_eq!((doc.root().map(|e| e.tag()), next), (Some("b"), "é<b>x</b>".len()));
    }

    #[test]
    fn broken_and_deep_markup_does_not_panic() {
        for html in [
            "",
            "<",
            "<div",
            "<div><span></div>",
            "</p>",
            "<a href='x>y'>z</a>",
            "&#xffffff;",
            "<script>x</scr",
            "<title>",
        ] {
            let doc = parse(html);
            for e in doc.elements() {
                let _ = (e.text(), e.elements().count());
            }
        }
        let deep = "<div>".repeat(10_000) + "x" + &"</div>".repeat(10_000);
        let doc = parse(&deep);
        assert_eq!(doc.root().map(|r| r.text()).as_deref(), Some("x"));
    }
}
