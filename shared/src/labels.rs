//! Label maps arrive as JSON text (koku stores `json.dumps` of a dict). They are stored as jsonb
//! untouched, so each distinct value is checked once here for what PostgreSQL would refuse: anything
//! that is not a JSON object, and NUL characters, which jsonb cannot hold.

use serde::de::IgnoredAny;

/// Larger label cells are refused: a label map is a few KiB at most in practice, and one huge cell
/// must not break the memory ceiling.
pub const MAX_LABEL_BYTES: usize = 256 * 1024;

/// Checks one label cell; the error says what is wrong, for the error row.
pub fn validate(text: &str) -> Result<(), String> {
    if text.len() > MAX_LABEL_BYTES {
        return Err(format!(
            "label map of {} bytes exceeds the {} byte limit",
            text.len(),
            MAX_LABEL_BYTES
        ));
    }
    if text.as_bytes().contains(&0) {
        return Err("label map contains a NUL byte".into());
    }
    if !text.trim_start().starts_with('{') {
        return Err(format!("label map is not a JSON object: {}", excerpt(text)));
    }
    serde_json::from_str::<IgnoredAny>(text)
        .map_err(|e| format!("label map is not valid JSON ({e}): {}", excerpt(text)))?;
    // Only a full parse tells an escaped NUL (`\u0000`) from an escaped backslash before `u0000`.
    if text.contains("\\u0000") {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("label map: {e}"))?;
        if contains_nul(&value) {
            return Err("label map contains an escaped NUL (\\u0000)".into());
        }
    }
    Ok(())
}

fn contains_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

fn excerpt(text: &str) -> String {
    let cut: String = text.chars().take(60).collect();
    if cut.len() < text.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_koku_label_text_and_hostile_but_valid_values() {
        assert!(validate("{}").is_ok());
        assert!(validate(r#"{"app": "koku", "env": "prod"}"#).is_ok());
        assert!(validate(r#"{"q": "it's \"quoted\"", "sql": "'); DROP TABLE x; --"}"#).is_ok());
        assert!(
            validate(r#"{"path": "C:\\u0000dir"}"#).is_ok(),
            "escaped backslash, not NUL"
        );
        assert!(validate(r#"{"ü": "日本"}"#).is_ok());
    }

    #[test]
    fn refuses_what_jsonb_would_refuse() {
        assert!(
            validate("app:koku")
                .unwrap_err()
                .contains("not a JSON object")
        );
        assert!(validate("[1]").unwrap_err().contains("not a JSON object"));
        assert!(
            validate(r#"{"a": }"#)
                .unwrap_err()
                .contains("not valid JSON")
        );
        assert!(
            validate(r#"{"a": "x\u0000y"}"#)
                .unwrap_err()
                .contains("NUL")
        );
        assert!(validate("{\"a\": \"x\0\"}").unwrap_err().contains("NUL"));
        let huge = format!(r#"{{"a": "{}"}}"#, "x".repeat(MAX_LABEL_BYTES));
        assert!(validate(&huge).unwrap_err().contains("exceeds"));
    }
}
