//! A small, pure view tree: what the panel (and the pages that reuse its parts) shows, as
//! data. The shell (`web::dom`) turns a [`Node`] into DOM with `createElement`,
//! `setAttribute` from a closed list and `textContent` only, so no value can become markup.
//!
//! Every word the rep reads is a [`Text`]: an i18n message key with its arguments
//! ([`Text::Msg`]), data from the CRM or the chat ([`Text::Data`], cleaned of bidi controls)
//! or a value the shell formats for the browser's locale ([`Text::Fmt`]: amounts, dates,
//! counts). There is no constructor for a literal view string, which is what the native
//! tests check over every panel state.
use crate::core::model::Crm;
use serde::{Deserialize, Serialize};

/// The elements a view may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    A,
    Button,
    Dd,
    Details,
    Div,
    Dl,
    Dt,
    Form,
    H1,
    H2,
    H3,
    H4,
    Header,
    Input,
    Label,
    Li,
    Ol,
    Opt,
    P,
    Progress,
    Section,
    Select,
    Span,
    Summary,
    Textarea,
    Ul,
}

impl Tag {
    pub fn name(self) -> &'static str {
        match self {
            Tag::A => "a",
            Tag::Button => "button",
            Tag::Dd => "dd",
            Tag::Details => "details",
            Tag::Div => "div",
            Tag::Dl => "dl",
            Tag::Dt => "dt",
            Tag::Form => "form",
            Tag::H1 => "h1",
            Tag::H2 => "h2",
            Tag::H3 => "h3",
            Tag::H4 => "h4",
            Tag::Header => "header",
            Tag::Input => "input",
            Tag::Label => "label",
            Tag::Li => "li",
            Tag::Ol => "ol",
            Tag::Opt => "option",
            Tag::P => "p",
            Tag::Progress => "progress",
            Tag::Section => "section",
            Tag::Select => "select",
            Tag::Span => "span",
            Tag::Summary => "summary",
            Tag::Textarea => "textarea",
            Tag::Ul => "ul",
        }
    }
}

/// The attributes a view may set with a machine value (ids, references, URLs already
/// checked by [`crate::core::view::safe_record_url`]). No event handlers, no `style`, no `src`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attr {
    AriaBusy,
    AriaDescribedBy,
    AriaExpanded,
    AriaLabelledBy,
    AriaLive,
    Autocomplete,
    /// A checkbox's initial state (`"true"`/`"false"`): set as the checked property.
    Checked,
    DataPassed,
    DataState,
    DataStep,
    DataView,
    For,
    Hidden,
    Href,
    Max,
    Name,
    NoValidate,
    Rel,
    Role,
    Rows,
    Target,
    Type,
    /// The initial value of an input or a progress bar (inputs: set as the value property).
    Value,
}

impl Attr {
    pub fn name(self) -> &'static str {
        match self {
            Attr::AriaBusy => "aria-busy",
            Attr::AriaDescribedBy => "aria-describedby",
            Attr::AriaExpanded => "aria-expanded",
            Attr::AriaLabelledBy => "aria-labelledby",
            Attr::AriaLive => "aria-live",
            Attr::Autocomplete => "autocomplete",
            Attr::Checked => "checked",
            Attr::DataPassed => "data-passed",
            Attr::DataState => "data-state",
            Attr::DataStep => "data-step",
            Attr::DataView => "data-view",
            Attr::For => "for",
            Attr::Hidden => "hidden",
            Attr::Href => "href",
            Attr::Max => "max",
            Attr::Name => "name",
            Attr::NoValidate => "novalidate",
            Attr::Rel => "rel",
            Attr::Role => "role",
            Attr::Rows => "rows",
            Attr::Target => "target",
            Attr::Type => "type",
            Attr::Value => "value",
        }
    }
}

/// A value the shell formats for the browser's locale (`Intl`), so core stays locale-free.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fmt", rename_all = "snake_case")]
pub enum Fmt {
    /// A whole number with the locale's grouping ("12,000", "12.000").
    Count { n: i64 },
    /// An amount in the CRM's currency (ISO 4217 code) or a plain number without one.
    Money { amount: f64, currency: Option<String> },
    /// A calendar day ("2 Dec"; with the year when it is not this year's).
    Day { y: i32, m: u8, d: u8, year: bool },
    /// The local time of day of an instant ("14:02").
    Time { ms: i64 },
    /// A full local date and time, for hover titles.
    Stamp { ms: i64 },
    /// An instant in UTC, the same in every locale ("2026-12-02 10:00 UTC"): what support
    /// compares across logs.
    Utc { ms: i64 },
}

/// A message argument: data text or a formatted value.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Data(String),
    Fmt(Fmt),
    /// Translated text inside a message ("contact", a CRM's name, a record label).
    Text(Box<Text>),
}

impl Arg {
    /// A message key without arguments, as an argument.
    pub fn word(key: &'static str) -> Self {
        Arg::Text(Box::new(Text::key(key)))
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Data(s)
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Data(s.to_string())
    }
}

/// Text a rep reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Text {
    /// An i18n key (`extension/_locales/*/messages.json`) with its `$1…$9` arguments.
    Msg {
        key: &'static str,
        args: Vec<Arg>,
    },
    /// Text from the CRM, the chat or the rep (a name, a stage): shown as it is, cleaned.
    Data(String),
    Fmt(Fmt),
}

impl Text {
    pub fn key(key: &'static str) -> Self {
        Text::Msg { key, args: vec![] }
    }
    pub fn msg(key: &'static str, args: Vec<Arg>) -> Self {
        Text::Msg { key, args }
    }
    pub fn data(s: impl Into<String>) -> Self {
        Text::Data(s.into())
    }
}

impl From<crate::core::view::Msg> for Text {
    fn from(m: crate::core::view::Msg) -> Self {
        Text::Msg { key: m.key, args: m.args.into_iter().map(Arg::Data).collect() }
    }
}

/// What a control does when used; the shell maps each to its handler (clicks count only
/// while the panel is visible; state-changing actions are confirmed first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Collapse,
    OpenOptions,
    SyncNow,
    Unlink,
    /// Exclude the chat (`false`) or include it again (`true`: it is excluded now).
    ToggleExclude {
        excluded: bool,
    },
    BackUpOlder {
        count: u32,
    },
    /// Choose candidate `i` of the chooser.
    Choose(usize),
    /// Link search result `i`.
    LinkResult(usize),
    /// Prefill the create form with group participant `i` (a number without a record).
    CreateFor(usize),
    /// Search the CRM for group participant `i`.
    SearchFor(usize),
    /// Turn masking off (`false`) or back on (`true`) for this chat's backups.
    ToggleMask {
        masked: bool,
    },
    SubmitCreate,
    SubmitSearch,
    BackfillStart,
    BackfillCancel,
    ConfirmYes,
    ConfirmNo,
    // The options page.
    /// Connect with the pasted keys of the own-app form.
    Connect(Crm),
    /// Browser sign-in with one's own app (the own-app form's client id).
    OauthConnect(Crm),
    /// One-click sign-in with the product's app (LeadSquared: its two keys).
    SignIn(Crm),
    Disconnect(Crm),
    /// Run the CRM's setup check again.
    CheckAgain(Crm),
    /// Show the confirmation before creating Salesforce's chat object.
    ChatObjectAsk,
    ChatObjectYes,
    ChatObjectNo,
    SaveSettings,
    Export,
    /// The rep typed their own number in the first run: guess the region again.
    OwnNumberTyped,
    FirstRunFinish,
    OpenWhatsApp,
}

/// One element of the view.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Node {
    pub tag: Option<Tag>,
    pub id: Option<String>,
    pub classes: Vec<&'static str>,
    pub attrs: Vec<(Attr, String)>,
    /// `aria-label`: read aloud, so it is text.
    pub label: Option<Text>,
    /// `title` (the hover text): text too.
    pub title: Option<Text>,
    pub text: Option<Text>,
    pub on: Option<Action>,
    pub children: Vec<Node>,
}

impl Node {
    pub fn new(tag: Tag) -> Self {
        Node { tag: Some(tag), ..Default::default() }
    }
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
    pub fn class(mut self, c: &'static str) -> Self {
        self.classes.push(c);
        self
    }
    pub fn attr(mut self, a: Attr, v: impl Into<String>) -> Self {
        self.attrs.push((a, v.into()));
        self
    }
    pub fn text(mut self, t: Text) -> Self {
        self.text = Some(t);
        self
    }
    pub fn key(self, key: &'static str) -> Self {
        self.text(Text::key(key))
    }
    pub fn label(mut self, t: Text) -> Self {
        self.label = Some(t);
        self
    }
    pub fn title(mut self, t: Text) -> Self {
        self.title = Some(t);
        self
    }
    pub fn on(mut self, a: Action) -> Self {
        self.on = Some(a);
        self
    }
    pub fn child(mut self, n: Node) -> Self {
        self.children.push(n);
        self
    }
    pub fn children(mut self, ns: impl IntoIterator<Item = Node>) -> Self {
        self.children.extend(ns);
        self
    }
    /// A `type=button` button that does `a`.
    pub fn button(id: impl Into<String>, t: Text, a: Action) -> Self {
        Node::new(Tag::Button).id(id).attr(Attr::Type, "button").text(t).on(a)
    }
    /// A status line screen readers announce.
    pub fn status(id: impl Into<String>) -> Self {
        Node::new(Tag::P).id(id).attr(Attr::Role, "status")
    }

    /// Depth-first walk over this node and its descendants.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Node)) {
        f(self);
        for c in &self.children {
            c.walk(f);
        }
    }

    /// The first node with this id.
    pub fn find(&self, id: &str) -> Option<&Node> {
        let mut hit = None;
        self.walk(&mut |n| {
            if hit.is_none() && n.id.as_deref() == Some(id) {
                hit = Some(n);
            }
        });
        hit
    }

    /// Every text of the tree (content, labels, titles), in document order.
    pub fn texts(&self) -> Vec<&Text> {
        let mut out = vec![];
        self.walk(&mut |n| out.extend([&n.label, &n.title, &n.text].into_iter().flatten()));
        out
    }
}

/// One field of a CRM's "own app / pasted keys" form, as its descriptor lists it: the
/// credentials field it fills, the control's id (`#f-<control>`, stable: tests and the
/// browser's autofill know it), its label's message key, and what kind of value it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialField {
    /// The `Credentials` field it fills (its serialized name).
    pub name: &'static str,
    pub control: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    /// Also sent to start a browser sign-in with the admin's own app.
    pub sign_in: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Text {
        default: &'static str,
    },
    /// Shown as a password field.
    Secret,
    /// Shown as a password field; left empty, it is not sent.
    OptionalSecret,
    /// The Zoho data centre, chosen from the list the page is given.
    DataCentre,
}

/// A labelled text input (`#f-<name>`, its error `#err-<name>`).
pub fn field(name: &str, label_key: &'static str, value: &str) -> Node {
    let id = format!("f-{name}");
    Node::new(Tag::Div)
        .class("field")
        .child(Node::new(Tag::Label).attr(Attr::For, &id).key(label_key))
        .child(
            Node::new(Tag::Input)
                .id(&id)
                .attr(Attr::Name, name)
                .attr(Attr::AriaDescribedBy, format!("err-{name}"))
                .attr(Attr::Value, crate::core::view::clean_text(value)),
        )
        .child(Node::new(Tag::Span).id(format!("err-{name}")).class("error"))
}

/// A labelled select (`#f-<name>`) with (value, text) options.
pub fn select(name: &str, label_key: &'static str, options: Vec<(String, Text)>) -> Node {
    let id = format!("f-{name}");
    Node::new(Tag::Div)
        .class("field")
        .child(Node::new(Tag::Label).attr(Attr::For, &id).key(label_key))
        .child(Node::new(Tag::Select).id(&id).children(
            options.into_iter().map(|(v, t)| Node::new(Tag::Opt).attr(Attr::Value, v).text(t)),
        ))
}

/// A plain, deterministic rendering for snapshot tests: one element per line, indented,
/// texts through `translate` (the English messages in tests).
pub fn snapshot(node: &Node, translate: &dyn Fn(&Text) -> String) -> String {
    let mut out = String::new();
    snap(node, 0, translate, &mut out);
    out
}

fn snap(n: &Node, depth: usize, tr: &dyn Fn(&Text) -> String, out: &mut String) {
    let indent = "  ".repeat(depth);
    let mut line = n.tag.map(Tag::name).unwrap_or("#fragment").to_string();
    if let Some(id) = &n.id {
        line.push_str(&format!("#{id}"));
    }
    for c in &n.classes {
        line.push_str(&format!(".{c}"));
    }
    let mut attrs = n.attrs.clone();
    attrs.sort();
    for (a, v) in attrs {
        line.push_str(&format!(" [{}={v:?}]", a.name()));
    }
    if let Some(t) = &n.label {
        line.push_str(&format!(" [aria-label={:?}]", tr(t)));
    }
    if let Some(t) = &n.title {
        line.push_str(&format!(" [title={:?}]", tr(t)));
    }
    if let Some(a) = &n.on {
        line.push_str(&format!(" (on {a:?})"));
    }
    if let Some(t) = &n.text {
        line.push_str(&format!(" {:?}", tr(t)));
    }
    out.push_str(&indent);
    out.push_str(&line);
    out.push('\n');
    for c in &n.children {
        snap(c, depth + 1, tr, out);
    }
}

/// A locale-free rendering of a formatted value, for snapshots and the command line.
pub fn fmt_plain(f: &Fmt) -> String {
    match f {
        Fmt::Count { n } => n.to_string(),
        Fmt::Money { amount, currency } => match currency {
            Some(c) => format!("{c} {amount:.2}"),
            None => format!("{amount:.2}"),
        },
        Fmt::Day { y, m, d, year } => {
            if *year {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{m:02}-{d:02}")
            }
        }
        Fmt::Time { ms } => {
            let s = ms.div_euclid(1000).rem_euclid(86_400);
            format!("{:02}:{:02}Z", s / 3600, (s % 3600) / 60)
        }
        Fmt::Stamp { ms } | Fmt::Utc { ms } => crate::core::view::absolute_utc(*ms),
    }
}
