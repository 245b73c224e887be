//! wasm-bindgen-test suite: runs the wasm build in headless Chromium.
// Test helpers (not #[test] functions themselves) unwrap: a panic here is a failed test.
#![allow(clippy::unwrap_used)]
#![cfg(target_arch = "wasm32")]
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn core_runs_in_the_browser() {
    // The pure core gives the same answers compiled to wasm.
    assert!(crmsync::core::status::product_line().starts_with("crmsync "));
    let sf = br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
    assert_eq!(crmsync::crm::http::error_code(sf).as_deref(), Some("INVALID_SESSION_ID"));
}

mod store {
    use crmsync::core::model::{Direction, LocalMinute, Message, Sender};
    use crmsync::core::outbox::OutboxMessage;
    use crmsync::core::store::Table;
    use crmsync::web::store::Store;
    use wasm_bindgen_test::*;

    fn msg(key: &str, text: &str) -> OutboxMessage {
        OutboxMessage {
            message: Message::text(
                key,
                "pn:+5511987654321",
                Direction::In,
                Sender { name: "Ana".into(), phone: None },
                Some(LocalMinute { year: 2026, month: 11, day: 20, hour: 10, minute: 1 }),
                text,
            ),
            captured_at_ms: 1,
            synced: false,
        }
    }

    #[wasm_bindgen_test]
    async fn outbox_dedupes_updates_edits_and_settles() {
        let name = format!("crmsync-test-{}", js_sys::Math::random());
        let s = Store::open_named(&name).await.unwrap();
        assert_eq!(
            s.append_messages(&[msg("a", "hi"), msg("b", "yo")], |_| true).await.unwrap(),
            (2, 0)
        );
        // Re-rendered rows: nothing new.
        assert_eq!(s.append_messages(&[msg("a", "hi")], |_| true).await.unwrap(), (0, 0));
        let sent = [msg("a", "hi").message, msg("b", "yo").message];
        assert_eq!(crmsync::core::store::mark_synced(&s, &sent).await.unwrap(), 2);
        assert!(s.all_raw(Table::Pending).await.unwrap().is_empty());
        // An edit makes the message pending again.
        assert_eq!(s.append_messages(&[msg("a", "hi (edited)")], |_| true).await.unwrap(), (0, 1));
        let pending = s.all_raw(Table::Pending).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].0, "a");
        let day: Vec<String> =
            s.get(Table::Days, "pn:+5511987654321|2026-11-20").await.unwrap().unwrap();
        assert_eq!(day, ["a", "b"]);
        // Reopening sees the same data (durable, schema already at this version).
        let again = Store::open_named(&name).await.unwrap();
        let m: OutboxMessage = again.get(Table::Messages, "a").await.unwrap().unwrap();
        assert_eq!(m.message.text, "hi (edited)");
        assert!(!m.synced);
        // A message outside the backup window is stored and listed for its day, never pending.
        assert_eq!(
            again
                .append_messages(&[msg("old", "from last month")], |m| m.message.key != "old")
                .await
                .unwrap(),
            (1, 0)
        );
        assert!(again.get::<OutboxMessage>(Table::Messages, "old").await.unwrap().is_some());
        assert!(!again.all_raw(Table::Pending).await.unwrap().iter().any(|(k, _)| k == "old"));
        let day: Vec<String> =
            again.get(Table::Days, "pn:+5511987654321|2026-11-20").await.unwrap().unwrap();
        assert_eq!(day, ["a", "b", "old"]);
    }
}

#[wasm_bindgen_test]
fn phone_parsing_runs_in_the_browser() {
    let out = crmsync::web::phone::phone_e164_batch(
        "(11) 98765-4321\tBR\n020 7946 0958\tZZ\n+1 (415) 555-2671\tUS\n",
    );
    assert_eq!(out, "+5511987654321\ninvalid\n+14155552671\n");
}

#[wasm_bindgen_test]
fn phone_notes_idd_and_trunk_8_in_the_browser() {
    let out = crmsync::web::phone::phone_e164_batch(
        "011 44 20 7946 0958\tFR\n+88622123456\tZZ\n8 912 345 67 89\tUS\n",
    );
    assert_eq!(out, "+442079460958\ninvalid\n+79123456789\n");
    let field = crmsync::core::phone::parse_crm_phone("(415) 555-2671 (office)", "US");
    assert_eq!(field, Ok(vec!["+14155552671".to_string()]));
}

/// The content script's first scan in steps (yielding to the page between them) hands on the
/// same messages as one `ingest` of the whole list, here over 700 rows (three parts, three
/// steps) with day chips between them.
#[wasm_bindgen_test]
async fn the_first_scan_in_steps_hands_on_what_one_ingest_does() {
    use wasm_bindgen::JsCast;
    let doc = web_sys::window().unwrap().document().unwrap();
    let list = doc.create_element("div").unwrap();
    let mut html = String::new();
    for i in 0..700 {
        if i % 100 == 0 {
            html.push_str(&format!(r#"<div role="row"><span>{}/3/2026</span></div>"#, 1 + i / 100));
        }
        let dir = if i % 2 == 0 { "message-in" } else { "message-out" };
        html.push_str(&format!(
            r#"<div role="row"><div data-id="K{i}" class="{dir}"><div data-pre-plain-text="[10:{:02}, {}/3/2026] A: "><span data-testid="selectable-text">text {i}</span></div></div></div>"#,
            i % 60,
            1 + i / 100
        ));
    }
    list.set_inner_html(&html);
    doc.body().unwrap().append_child(&list).unwrap();
    let stepped = crmsync::web::bench::capture_first_scan(
        list.clone().dyn_into().unwrap(),
        "Chat".into(),
        "en-GB".into(),
    )
    .await;
    let mut s = crmsync::capture::Session::new(10);
    s.open_chat(
        crmsync::core::model::WaIdentity {
            phone: None,
            lid: None,
            name: "Chat".into(),
            is_group: false,
        },
        "en-GB",
    );
    let whole = s.ingest(&list.outer_html());
    list.remove();
    assert_eq!(whole.len(), 700);
    assert_eq!(stepped, whole.len());
}
