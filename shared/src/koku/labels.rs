//! Label maps arrive as JSON text (koku stores `json.dumps` of a dict). They are stored as jsonb
//! untouched, so each distinct value is checked once here for what PostgreSQL would refuse: anything
//! that is not a JSON object, NUL characters and unpaired surrogate escapes, which jsonb cannot hold,
//! and nesting deep enough to exhaust its parser's stack.

use serde::de::IgnoredAny;

/// Larger label cells are refused: a label map is a few KiB at most in practice, and one huge cell
/// must not break the memory ceiling.
pub const MAX_LABEL_BYTES: usize = 256 * 1024;

/// Deeper nesting is refused: PostgreSQL's jsonb parser recurses and fails deep input with "stack
/// depth limit exceeded" (SQLSTATE 54001), which is not a data error and would be retried forever.
/// koku's label maps are flat; 128 is serde_json's own recursion limit.
pub const MAX_LABEL_DEPTH: usize = 128;

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
    check_escapes_and_depth(text)
}

/// What the syntax check skips over and jsonb refuses: nesting beyond [`MAX_LABEL_DEPTH`], `\u0000`,
/// and `\u` escapes of UTF-16 surrogates that are not a high-low pair. The text is valid JSON here,
/// so tracking strings and escapes byte by byte is exact (`\\u0000` is a backslash, not a NUL).
fn check_escapes_and_depth(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let unit = |at: usize| -> Option<u16> {
        let hex = text.get(at..at + 6)?.strip_prefix("\\u")?;
        u16::from_str_radix(hex, 16).ok()
    };
    let unpaired = || {
        format!(
            "label map has an unpaired surrogate escape: {}",
            excerpt(text)
        )
    };
    let (mut depth, mut in_string, mut i) = (0usize, false, 0);
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => in_string = !in_string,
            b'\\' => match unit(i) {
                Some(0) => return Err("label map contains an escaped NUL (\\u0000)".into()),
                Some(0xD800..=0xDBFF) => match unit(i + 6) {
                    Some(0xDC00..=0xDFFF) => i += 6,
                    _ => return Err(unpaired()),
                },
                Some(0xDC00..=0xDFFF) => return Err(unpaired()),
                // Any other escape: skip the escaped character (a quote must not end the string).
                _ => i += 1,
            },
            b'{' | b'[' if !in_string => {
                depth += 1;
                if depth > MAX_LABEL_DEPTH {
                    return Err(format!(
                        "label map is nested deeper than {MAX_LABEL_DEPTH} levels"
                    ));
                }
            }
            b'}' | b']' if !in_string => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
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
        assert!(validate(r#"{"smile": "\ud83d\ude00", "e": "\u00e9"}"#).is_ok());
        assert!(
            validate(r#"{"big": 1e400}"#).is_ok(),
            "jsonb's numeric holds it"
        );
        let deep = format!(
            "{}1{}",
            r#"{"a":"#.repeat(MAX_LABEL_DEPTH),
            "}".repeat(MAX_LABEL_DEPTH)
        );
        assert!(validate(&deep).is_ok());
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
        assert!(validate(r#"{"\\\u0000": 1}"#).unwrap_err().contains("NUL"));
        for lone in [
            r#"{"a": "\ud800"}"#,
            r#"{"\udc00": 1}"#,
            r#"{"a": "\ud83d\n"}"#,
        ] {
            assert!(validate(lone).unwrap_err().contains("surrogate"), "{lone}");
        }
        let deep = format!("{}{}", r#"{"a":["#.repeat(100), "]}".repeat(100));
        assert!(validate(&deep).unwrap_err().contains("deeper"));
        let huge = format!(r#"{{"a": "{}"}}"#, "x".repeat(MAX_LABEL_BYTES));
        assert!(validate(&huge).unwrap_err().contains("exceeds"));
    }
}
