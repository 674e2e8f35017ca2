//! JSON text as Python's `json.dumps` writes it, because koku stores labels that way (spec §2.1) and
//! the ingest compares label sets as text: `{"a": "1", "b": "2"}` with `", "` and `": "`
//! separators, keys sorted, non-ASCII escaped as `\uXXXX` (`ensure_ascii=True`).

/// `json.dumps` of a str -> str dict with sorted keys; `{}` when empty. Keys need not be sorted on
/// input; equal sets always give equal text.
pub fn labels_json<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
    pairs.sort_unstable();
    pairs.dedup_by(|a, b| a.0 == b.0);
    let mut out = String::with_capacity(2 + pairs.len() * 32);
    out.push('{');
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_string(&mut out, k);
        out.push_str(": ");
        push_string(&mut out, v);
    }
    out.push('}');
    out
}

/// Appends `s` as a JSON string literal, escaped as Python's `json.dumps` escapes it.
pub fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_keys_and_python_separators() {
        assert_eq!(
            labels_json([("team", "web"), ("app", "api")]),
            r#"{"app": "api", "team": "web"}"#
        );
        assert_eq!(labels_json([]), "{}");
        assert_eq!(labels_json([("a", "")]), r#"{"a": ""}"#);
    }

    #[test]
    fn escapes_like_ensure_ascii() {
        // json.dumps({"k": 'q"\\é😀\n'}) == '{"k": "q\\"\\\\\\u00e9\\ud83d\\ude00\\n"}'
        assert_eq!(
            labels_json([("k", "q\"\\é😀\n")]),
            r#"{"k": "q\"\\\u00e9\ud83d\ude00\n"}"#
        );
    }
}
