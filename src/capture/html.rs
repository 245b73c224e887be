//! A small owned element tree over browser-serialized HTML (`outerHTML`), parsed by `tl`
//! with entities decoded. The scraper walks this instead of the live DOM so that one read
//! per row crosses the wasm boundary, and so the same code runs natively and in fuzzing.
use html_escape::decode_html_entities;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    El(El),
    Text(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct El {
    pub tag: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

/// Deeper trees than this are cut (hostile or broken markup must not blow the stack).
const MAX_DEPTH: usize = 256;

fn convert(dom: &tl::VDom, handle: tl::NodeHandle, depth: usize) -> Option<Node> {
    let parser = dom.parser();
    match handle.get(parser)? {
        tl::Node::Tag(tag) => {
            let mut el = El {
                tag: tag.name().as_utf8_str().to_ascii_lowercase(),
                attrs: tag
                    .attributes()
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.map(|v| decode_html_entities(&v).into_owned()).unwrap_or_default()))
                    .collect(),
                children: Vec::new(),
            };
            if depth < MAX_DEPTH {
                for h in tag.children().top().iter() {
                    if let Some(n) = convert(dom, *h, depth + 1) {
                        el.children.push(n);
                    }
                }
            }
            Some(Node::El(el))
        }
        tl::Node::Raw(b) => Some(Node::Text(decode_html_entities(&b.as_utf8_str()).into_owned())),
        tl::Node::Comment(_) => None,
    }
}

/// Parse a fragment into its top-level nodes. Malformed input yields what could be read.
pub fn parse(html: &str) -> Vec<Node> {
    let Ok(dom) = tl::parse(html, tl::ParserOptions::default()) else {
        return Vec::new();
    };
    dom.children().iter().filter_map(|h| convert(&dom, *h, 0)).collect()
}

impl El {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn has_class(&self, class: &str) -> bool {
        self.attr("class").is_some_and(|c| c.split_ascii_whitespace().any(|x| x == class))
    }

    pub fn elements(&self) -> impl Iterator<Item = &El> {
        self.children.iter().filter_map(|n| match n {
            Node::El(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Depth-first search for the first descendant (or self) matching `pred`.
    pub fn find(&self, pred: &dyn Fn(&El) -> bool) -> Option<&El> {
        if pred(self) {
            return Some(self);
        }
        self.elements().find_map(|c| c.find(pred))
    }

    /// First match not inside a subtree for which `skip` holds (e.g. the quoted block).
    pub fn find_outside(&self, pred: &dyn Fn(&El) -> bool, skip: &dyn Fn(&El) -> bool) -> Option<&El> {
        if pred(self) {
            return Some(self);
        }
        self.elements().filter(|c| !skip(c)).find_map(|c| c.find_outside(pred, skip))
    }

    pub fn find_all<'a>(&'a self, pred: &dyn Fn(&El) -> bool, out: &mut Vec<&'a El>) {
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
pub fn root(nodes: &[Node]) -> Option<&El> {
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
