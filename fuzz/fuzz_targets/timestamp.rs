#![no_main]
// Any data-pre-plain-text value: a parsed minute that is a real date, or an error.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    for locale in ["en-US", "pt-BR", "de-DE", "ja-JP"] {
        if let Ok(p) = crmsync::core::timestamp::parse_pre_plain(data, locale) {
            let t = p.time;
            assert!(
                (1..=12).contains(&t.month)
                    && (1..=31).contains(&t.day)
                    && t.hour < 24
                    && t.minute < 60
            );
        }
    }
});
