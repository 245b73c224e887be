//! The shell that renders a core view tree (`core::ui::Node`) into DOM: `createElement`,
//! `setAttribute` for the tree's closed attribute list, `textContent` for every text. No
//! HTML parsing anywhere, so CRM data and chat text stay text. Messages are translated by
//! `chrome.i18n`; amounts, counts and dates are formatted by `Intl` in the browser's UI
//! language.
use super::chrome;
use crate::core::ui::{Action, Arg, Attr, Fmt, Node, Tag, Text};
use crate::core::view::clean_text;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element};

/// What a rendered control calls when used: the action and the element it is on.
pub type Handler = std::rc::Rc<dyn Fn(&Action, &Element)>;

/// Build `node` (and its children) as elements, appended to `parent`.
pub fn render(
    doc: &Document,
    parent: &Element,
    node: &Node,
    on: &Handler,
) -> Result<Option<Element>, JsValue> {
    let Some(tag) = node.tag else {
        for c in &node.children {
            render(doc, parent, c, on)?;
        }
        return Ok(None);
    };
    let e = doc.create_element(tag.name())?;
    if let Some(id) = &node.id {
        e.set_id(id);
    }
    if !node.classes.is_empty() {
        e.set_class_name(&node.classes.join(" "));
    }
    for (a, v) in &node.attrs {
        match (a, tag) {
            // An input's value is its property (what the rep edits), set as text.
            (Attr::Value, Tag::Input) => {
                e.unchecked_ref::<web_sys::HtmlInputElement>().set_value(&clean_text(v))
            }
            (Attr::Value, Tag::Textarea) => {
                e.unchecked_ref::<web_sys::HtmlTextAreaElement>().set_value(v)
            }
            (Attr::Checked, Tag::Input) => {
                e.unchecked_ref::<web_sys::HtmlInputElement>().set_checked(v == "true")
            }
            // A select's value picks one of its options: set once they exist, below.
            (Attr::Value, Tag::Select) => {}
            _ => e.set_attribute(a.name(), v)?,
        }
    }
    if let Some(t) = &node.label {
        e.set_attribute("aria-label", &text(t))?;
    }
    if let Some(t) = &node.title {
        e.set_attribute("title", &text(t))?;
    }
    if let Some(t) = &node.text {
        e.set_text_content(Some(&text(t)));
    }
    for c in &node.children {
        render(doc, &e, c, on)?;
    }
    if tag == Tag::Select {
        if let Some((_, v)) = node.attrs.iter().find(|(a, _)| *a == Attr::Value) {
            e.unchecked_ref::<web_sys::HtmlSelectElement>().set_value(v);
        }
    }
    if let Some(a) = &node.on {
        let (a, on, el) = (a.clone(), on.clone(), e.clone());
        let form = tag == Tag::Form;
        let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
            if form {
                ev.prevent_default();
            }
            on(&a, &el);
        });
        // Forms act when submitted, inputs as the rep types, everything else when clicked.
        let event = match tag {
            Tag::Form => "submit",
            Tag::Input | Tag::Textarea => "input",
            _ => "click",
        };
        e.add_event_listener_with_callback(event, cb.as_ref().unchecked_ref())?;
        cb.forget(); // lives as long as the element (the page)
    }
    parent.append_child(&e)?;
    Ok(Some(e))
}

/// Replace the children of the element with this id by `nodes`.
pub fn replace(doc: &Document, id: &str, nodes: Vec<Node>, on: &Handler) -> Result<(), JsValue> {
    let Some(target) = doc.get_element_by_id(id) else { return Ok(()) };
    target.set_text_content(None);
    render(doc, &target, &Node { children: nodes, ..Default::default() }, on)?;
    Ok(())
}

/// A text as the rep reads it, in the browser's language.
pub fn text(t: &Text) -> String {
    match t {
        Text::Data(s) => clean_text(s),
        Text::Fmt(f) => format(f),
        Text::Msg { key, args } => {
            let args: Vec<String> = args.iter().map(arg).collect();
            chrome::i18n(key, &args)
        }
    }
}

fn arg(a: &Arg) -> String {
    match a {
        Arg::Data(s) => clean_text(s),
        Arg::Fmt(f) => format(f),
        Arg::Text(t) => text(t),
    }
}

/// `new Intl.<ctor>(uiLanguage, options).format(value)`; `None` if Intl refuses the options.
fn intl(ctor: &str, options: &[(&str, JsValue)], value: &JsValue) -> Option<String> {
    let intl = js_sys::Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
    let ctor: js_sys::Function = js_sys::Reflect::get(&intl, &ctor.into()).ok()?.dyn_into().ok()?;
    let opts = js_sys::Object::new();
    for (k, v) in options {
        js_sys::Reflect::set(&opts, &(*k).into(), v).ok()?;
    }
    let locale = JsValue::from_str(&chrome::ui_language());
    let f = js_sys::Reflect::construct(&ctor, &js_sys::Array::of2(&locale, &opts)).ok()?;
    let format: js_sys::Function =
        js_sys::Reflect::get(&f, &"format".into()).ok()?.dyn_into().ok()?;
    format.call1(&f, value).ok()?.as_string()
}

/// A formatted value for the browser's locale (the locale-free form if Intl fails).
pub fn format(f: &Fmt) -> String {
    let s = |v: &str| JsValue::from_str(v);
    let done = match f {
        Fmt::Count { n } => intl("NumberFormat", &[], &JsValue::from(*n as f64)),
        Fmt::Money { amount, currency: Some(c) } => intl(
            "NumberFormat",
            &[("style", s("currency")), ("currency", s(c))],
            &JsValue::from(*amount),
        ),
        Fmt::Money { amount, currency: None } => intl(
            "NumberFormat",
            &[("minimumFractionDigits", 2.into()), ("maximumFractionDigits", 2.into())],
            &JsValue::from(*amount),
        ),
        Fmt::Day { y, m, d, year } => {
            let ms = js_sys::Date::utc(f64::from(*y), f64::from(*m) - 1.0)
                + f64::from(*d - 1) * 86_400_000.0;
            let mut opts =
                vec![("day", s("numeric")), ("month", s("short")), ("timeZone", s("UTC"))];
            if *year {
                opts.push(("year", s("numeric")));
            }
            intl("DateTimeFormat", &opts, &js_sys::Date::new(&JsValue::from(ms)).into())
        }
        Fmt::Time { ms } => intl(
            "DateTimeFormat",
            &[("hour", s("numeric")), ("minute", s("2-digit"))],
            &js_sys::Date::new(&JsValue::from(*ms as f64)).into(),
        ),
        Fmt::Utc { ms } => Some(crate::core::view::absolute_utc(*ms)),
        Fmt::Stamp { ms } => intl(
            "DateTimeFormat",
            &[("dateStyle", s("medium")), ("timeStyle", s("short"))],
            &js_sys::Date::new(&JsValue::from(*ms as f64)).into(),
        ),
    };
    done.unwrap_or_else(|| crate::core::ui::fmt_plain(f))
}

/// The rep's local time zone offset from UTC, in minutes (east positive).
pub fn utc_offset_min() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
}
