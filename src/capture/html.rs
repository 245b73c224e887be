//! A small owned element tree over browser-serialized HTML (`outerHTML`), parsed by `tl`
//! with entities decoded. The scraper walks this instead of the live DOM so that one read
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

/// Deeper trees than this are cut (hostile or broken markup must not blow the stack).
const MAX_DEPTH: usize = 256;

fn convert<'a>(dom: &tl::VDom<'a>, handle: tl::NodeHandle, depth: usize) -> Option<Node<'a>> {
    let parser = dom.parser();
    match handle.get(parser)? {
        tl::Node::Tag(tag) => {
            let raw = tag.attributes().unstable_raw();
            let mut attrs = Vec::with_capacity(raw.len());
            for (k, v) in raw.iter() {
                let v = v.as_ref().map(|v| decode(bytes_str(v))).unwrap_or(Cow::Borrowed(""));
                attrs.push((lower(bytes_str(k)), v));
            }
            // tl keeps `id` and `class` apart from the other attributes.
            if let Some(id) = tag.attributes().id() {
                attrs.push((Cow::Borrowed("id"), decode(bytes_str(id))));
            }
            if let Some(class) = tag.attributes().class() {
                attrs.push((Cow::Borrowed("class"), decode(bytes_str(class))));
            }
            let mut el = El { tag: lower(bytes_str(tag.name())), attrs, children: Vec::new() };
            if depth < MAX_DEPTH {
                for h in tag.children().top().iter() {
                    if let Some(n) = convert(dom, *h, depth + 1) {
                        el.children.push(n);
                    }
                }
            }
            Some(Node::El(el))
        }
        tl::Node::Raw(b) => Some(Node::Text(decode(bytes_str(b)))),
        tl::Node::Comment(_) => None,
    }
}

/// The bytes of the input as text, borrowed when they are valid UTF-8 (they always are:
/// they are slices of a `&str`).
fn bytes_str<'a>(b: &tl::Bytes<'a>) -> Cow<'a, str> {
    match b.as_bytes_borrowed() {
        Some(raw) => String::from_utf8_lossy(raw),
        None => Cow::Owned(b.as_utf8_str().into_owned()),
    }
}

/// Parse a fragment into its top-level nodes. Malformed input yields what could be read.
pub fn parse(html: &str) -> Vec<Node<'_>> {
    let Ok(dom) = tl::parse(html, tl::ParserOptions::default()) else {
        return Vec::new();
    };
    dom.children().iter().filter_map(|h| convert(&dom, *h, 0)).collect()
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
