//! Arbitrary text through the validation of label-map cells. A panic or hang is a bug, and so is
//! accepting text PostgreSQL's jsonb would refuse: not an object, a NUL, an unpaired surrogate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocp_summary::koku::labels::validate;
use serde_json::Value;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if validate(text).is_ok() {
        match serde_json::from_str::<Value>(text) {
            Ok(value) => assert!(value.is_object() && !has_nul(&value), "{text:?}"),
            // serde_json's numbers are f64; jsonb's numeric holds 1e400.
            Err(e) => assert!(e.to_string().starts_with("number out of range"), "{e}"),
        }
    }
});

fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}
