//! A small element tree over browser-serialized HTML (`outerHTML`), strings borrowed from
//! the input, entities decoded. The scraper walks this instead of the live DOM so that one read
//! per row crosses the wasm boundary, and so the same code runs natively and in fuzzing.
use html_escape::decode_html_entities;
use std::borrow::Cow;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node<'a> {
    El(El<'a>),
    Text(Cow<'a, str>),
}

/// Strings borrow from the input unless entity decoding or lowercasing changed them:
/// a 2,000-row scan allocates for the few values that need it, not for every one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct El<'a> {
    pub tag: Cow<'a, str>,
    pub attrs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    pub children: Vec<Node<'a>>,
}

fn decode(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.contains('&') {
        Cow::Owned(decode_html_entities(&s).into_owned())
    } else {
        s
    }
}

fn lower(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        s
    }
}

/// Deeper trees than this are flattened (hostile or broken markup must not blow the stack).
const MAX_DEPTH: usize = 256;

/// Elements that never have children or an end tag.
const VOID: [&str; 14] = ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"];
/// Elements whose content is raw text up to their end tag.
const RAW: [&str; 4] = ["script", "style", "textarea", "title"];

/// Parse a fragment into its top-level nodes. Malformed input yields what could be read.
///
/// Why not a general HTML parser crate: the input is always `outerHTML`, which browsers
/// serialize regularly (quoted attributes, escaped text, closed elements), and a full scan
/// of a long chat parses megabytes on the page's main thread. This single pass builds the
/// borrowed tree directly, several times faster than `tl` plus a conversion (measured with
/// `cargo run --release --example scan_profile`). It accepts any input (fuzzed): stray `<`,
/// unclosed tags, unbalanced end tags, deep nesting.
pub fn parse(html: &str) -> Vec<Node<'_>> {
    let mut p = Parser { s: html, b: html.as_bytes(), i: 0 };
    // The open elements; the bottom one collects the top-level nodes.
    let mut stack: Vec<El<'_>> = vec![El::default()];
    while p.i < p.b.len() {
        if p.b[p.i] != b'<' {
            let start = p.i;
            p.i = memchr(b'<', &p.b[p.i..]).map(|k| p.i + k).unwrap_or(p.b.len());
            push_node(&mut stack, Node::Text(decode(Cow::Borrowed(&p.s[start..p.i]))));
            continue;
        }
        let rest = &p.b[p.i..];
        if rest.starts_with(b"<!--") {
            p.i = find(&p.b[p.i + 4..], b"-->").map(|k| p.i + 4 + k + 3).unwrap_or(p.b.len());
            continue;
        }
        if rest.starts_with(b"</") {
            let end = memchr(b'>', rest).map(|k| p.i + k + 1).unwrap_or(p.b.len());
            let name_end = if end > p.i + 2 && p.b[end - 1] == b'>' { end - 1 } else { end };
            let name = p.s[p.i + 2..name_end.max(p.i + 2)].trim().to_ascii_lowercase();
            p.i = end;
            // Close up to the matching open element; an unmatched end tag is ignored.
            if let Some(pos) = stack.iter().rposition(|e| e.tag == name) {
                if pos > 0 {
                    while stack.len() > pos {
                        close(&mut stack);
                    }
                }
            }
            continue;
        }
        if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            p.i = memchr(b'>', rest).map(|k| p.i + k + 1).unwrap_or(p.b.len());
            continue;
        }
        match p.tag() {
            Some((mut el, self_closing)) => {
                if let Some(raw) = RAW.iter().find(|r| **r == el.tag) {
                    let close_tag = format!("</{raw}");
                    let end = find_ci(&p.b[p.i..], close_tag.as_bytes()).map(|k| p.i + k).unwrap_or(p.b.len());
                    el.children.push(Node::Text(Cow::Borrowed(&p.s[p.i..end])));
                    p.i = memchr(b'>', &p.b[end..]).map(|k| end + k + 1).unwrap_or(p.b.len());
                    push_node(&mut stack, Node::El(el));
                } else if self_closing || VOID.contains(&el.tag.as_ref()) || stack.len() > MAX_DEPTH {
                    push_node(&mut stack, Node::El(el));
                } else {
                    stack.push(el);
                }
            }
            None => {
                // A '<' that starts no tag is text.
                push_node(&mut stack, Node::Text(Cow::Borrowed("<")));
                p.i += 1;
            }
        }
    }
    while stack.len() > 1 {
        close(&mut stack);
    }
    stack.pop().map(|r| r.children).unwrap_or_default()
}

fn push_node<'a>(stack: &mut [El<'a>], n: Node<'a>) {
    if let Some(top) = stack.last_mut() {
        top.children.push(n);
    }
}

fn close(stack: &mut Vec<El<'_>>) {
    if let Some(el) = stack.pop() {
        push_node(stack, Node::El(el));
    }
}

fn memchr(c: u8, b: &[u8]) -> Option<usize> {
    b.iter().position(|x| *x == c)
}

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
    fn skip_ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    /// A tag or attribute name. Offsets always stop at ASCII delimiters, so slicing `s`
    /// never splits a UTF-8 sequence.
    fn name(&mut self) -> &'a str {
        let start = self.i;
        while self.i < self.b.len() && !matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>' | b'=') {
            self.i += 1;
        }
        &self.s[start..self.i]
    }

    /// An open tag at `<`: its element and whether it ended with `/>`. None if not a tag.
    fn tag(&mut self) -> Option<(El<'a>, bool)> {
        let save = self.i;
        self.i += 1;
        if !self.b.get(self.i).is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i = save;
            return None;
        }
        let tag = lower(Cow::Borrowed(self.name()));
        let mut el = El { tag, attrs: Vec::new(), children: Vec::new() };
        loop {
            self.skip_ws();
            match self.b.get(self.i) {
                None => return Some((el, false)),
                Some(b'>') => {
                    self.i += 1;
                    return Some((el, false));
                }
                Some(b'/') => {
                    self.i += 1;
                    if self.b.get(self.i) == Some(&b'>') {
                        self.i += 1;
                        return Some((el, true));
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
                                let end = memchr(q, &self.b[start..]).map(|k| start + k).unwrap_or(self.b.len());
                                self.i = (end + 1).min(self.b.len());
                                decode(Cow::Borrowed(&self.s[start..end]))
                            }
                            _ => {
                                let start = self.i;
                                while self.i < self.b.len() && !self.b[self.i].is_ascii_whitespace() && self.b[self.i] != b'>' {
                                    self.i += 1;
                                }
                                decode(Cow::Borrowed(&self.s[start..self.i]))
                            }
                        }
                    } else {
                        Cow::Borrowed("")
                    };
                    el.attrs.push((lower(Cow::Borrowed(name)), value));
                }
            }
        }
    }
}

impl<'a> El<'a> {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_ref())
    }

    pub fn has_class(&self, class: &str) -> bool {
        self.attr("class").is_some_and(|c| c.split_ascii_whitespace().any(|x| x == class))
    }

    pub fn elements(&self) -> impl Iterator<Item = &El<'a>> {
        self.children.iter().filter_map(|n| match n {
            Node::El(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Depth-first search for the first descendant (or self) matching `pred`.
    pub fn find(&self, pred: &dyn Fn(&El) -> bool) -> Option<&El<'a>> {
        if pred(self) {
            return Some(self);
        }
        self.elements().find_map(|c| c.find(pred))
    }

    /// First match not inside a subtree for which `skip` holds (e.g. the quoted block).
    pub fn find_outside(&self, pred: &dyn Fn(&El) -> bool, skip: &dyn Fn(&El) -> bool) -> Option<&El<'a>> {
        if pred(self) {
            return Some(self);
        }
        self.elements().filter(|c| !skip(c)).find_map(|c| c.find_outside(pred, skip))
    }

    pub fn find_all<'s>(&'s self, pred: &dyn Fn(&El) -> bool, out: &mut Vec<&'s El<'a>>) {
        if pred(self) {
            out.push(self);
        }
        for c in self.elements() {
            c.find_all(pred, out);
        }
    }

    /// The visible text: text nodes in order, emoji images as their `alt`, `data-plain-text`
    /// nodes as that value. Never includes attribute text of other elements.
    pub fn text(&self) -> String {
        let mut s = String::new();
        self.text_into(&mut s);
        s
    }

    fn text_into(&self, out: &mut String) {
        if let Some(p) = self.attr("data-plain-text") {
            out.push_str(p);
            return;
        }
        if self.tag == "img" {
            if let Some(alt) = self.attr("alt") {
                out.push_str(alt);
            }
            return;
        }
        if self.tag == "br" {
            out.push('\n');
            return;
        }
        for c in &self.children {
            match c {
                Node::Text(t) => out.push_str(t),
                Node::El(e) => e.text_into(out),
            }
        }
    }
}

/// The first element of a parsed fragment (a row's outerHTML has exactly one).
pub fn root<'n, 'a>(nodes: &'n [Node<'a>]) -> Option<&'n El<'a>> {
    nodes.iter().find_map(|n| match n {
        Node::El(e) => Some(e),
        Node::Text(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_entities_and_keeps_structure() {
        let nodes = parse(r#"<div class="a b" data-x="1 &amp; 2"><span>&lt;b&gt;hi&lt;/b&gt;&nbsp;<img class="emoji" alt="😀"></span><!-- c --></div>"#);
        let d = root(&nodes).unwrap();
        assert!(d.has_class("b"));
        assert_eq!(d.attr("data-x"), Some("1 & 2"));
        assert_eq!(d.text(), "<b>hi</b>\u{a0}😀");
    }

    #[test]
    fn broken_and_deep_markup_does_not_panic() {
        for html in ["", "<", "<div", "<div><span></div>", "</p>", "<a href='x>y'>z</a>", "&#xffffff;"] {
            let _ = parse(html);
        }
        let deep = "<div>".repeat(10_000);
        let nodes = parse(&deep);
        assert!(root(&nodes).is_some());
    }
}
