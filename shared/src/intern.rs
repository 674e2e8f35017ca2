//! String interning for group keys: every distinct text value of a file is hashed once, after which
//! rows carry `u32` ids. Dictionary-encoded Parquet columns make this per distinct value, not per row.
//! A label map, once validated, also gets its label-set id: the content hash partial rows carry
//! instead of the map itself (see `store::copy`).

use std::sync::Arc;

use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The id standing for SQL NULL (a missing optional column or a null cell).
pub const NULL_ID: u32 = u32::MAX;

#[derive(Debug, Default)]
pub struct Interner {
    ids: FxHashMap<Arc<str>, u32>,
    texts: Texts,
    bytes: usize,
}

/// The text of each id, and for label maps their label-set id. Shared with the interner that made
/// it (one allocation per string), so a writer can hold the texts of a chunk while the interner
/// goes on.
#[derive(Debug, Default, Clone)]
pub struct Texts(Vec<Text>);

#[derive(Debug, Clone)]
struct Text {
    text: Arc<str>,
    /// Set once the text has been validated as a label map.
    label_set: Option<Uuid>,
}

impl Texts {
    /// The text of an id; `None` for [`NULL_ID`].
    pub fn get(&self, id: u32) -> Option<&str> {
        self.0.get(id as usize).map(|t| &*t.text)
    }

    /// The label-set id of a validated label map; `None` for [`NULL_ID`] and other texts.
    pub fn label_set(&self, id: u32) -> Option<Uuid> {
        self.0.get(id as usize).and_then(|t| t.label_set)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A label set's id: the first 128 bits of the SHA-256 of its text. Equal texts share an id in
/// every object and chunk; a collision between different texts is not a practical concern, even
/// for texts chosen to collide.
pub fn label_set_id(text: &str) -> Uuid {
    let digest = Sha256::digest(text.as_bytes());
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(id)
}

/// Rough heap cost of one interned entry beyond its text: Arc header, map slot, vector slot.
const ENTRY_OVERHEAD: usize = 48;

impl Interner {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.texts.0.len() as u32;
        let shared: Arc<str> = s.into();
        self.bytes += s.len() + ENTRY_OVERHEAD;
        self.ids.insert(Arc::clone(&shared), id);
        self.texts.0.push(Text {
            text: shared,
            label_set: None,
        });
        id
    }

    /// The text of an id; `None` for [`NULL_ID`].
    pub fn get(&self, id: u32) -> Option<&str> {
        self.texts.get(id)
    }

    /// The texts of every id so far, sharing the strings.
    pub fn texts(&self) -> Texts {
        self.texts.clone()
    }

    /// Ends the interner, keeping only what ids resolve to.
    pub fn into_texts(self) -> Texts {
        self.texts
    }

    /// Whether the text of `id` has been validated as a label map (and has its label-set id).
    pub fn is_label_set(&self, id: u32) -> bool {
        self.texts.label_set(id).is_some()
    }

    /// Records that the text of `id` is a valid label map, giving it its label-set id.
    pub fn mark_label_set(&mut self, id: u32) {
        if let Some(t) = self.texts.0.get_mut(id as usize) {
            t.label_set = Some(label_set_id(&t.text));
        }
    }

    /// Approximate heap bytes held, for the memory budget.
    pub fn heap_bytes(&self) -> usize {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// `max` of two ids by text in byte order, NULL losing to any value (SQL `max`).
    pub fn max_by_text(&self, a: u32, b: u32) -> u32 {
        if a == b || b == NULL_ID {
            return a;
        }
        if a == NULL_ID {
            return b;
        }
        match (self.get(a), self.get(b)) {
            (Some(x), Some(y)) if y > x => b,
            _ => a,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_once_and_orders_by_text() {
        let mut i = Interner::default();
        let a = i.intern("i-0002");
        let b = i.intern("i-0010");
        assert_eq!(i.intern("i-0002"), a);
        assert_eq!(i.len(), 2);
        assert_eq!(
            i.max_by_text(a, b),
            b,
            "byte order: '1' > '0' at the 5th byte"
        );
        assert_eq!(i.max_by_text(NULL_ID, a), a);
        assert_eq!(i.max_by_text(a, NULL_ID), a);
        assert_eq!(i.get(NULL_ID), None);
        let texts = i.texts();
        i.intern("later");
        assert_eq!(texts.get(b), Some("i-0010"));
        assert_eq!(texts.len(), 2, "a snapshot does not see later strings");
    }

    #[test]
    fn label_sets_are_named_by_their_text() {
        let mut i = Interner::default();
        let a = i.intern(r#"{"app": "web"}"#);
        let b = i.intern(r#"{"app":"web"}"#);
        assert!(!i.is_label_set(a));
        i.mark_label_set(a);
        i.mark_label_set(b);
        let texts = i.texts();
        // SHA-256 of the 14 bytes {"app": "web"}, first 16 bytes (sha256sum of the same text).
        assert_eq!(
            texts.label_set(a).unwrap().to_string(),
            "89c8bd7b-ab99-479e-6fe2-b2a3a9fe911f"
        );
        assert_ne!(
            texts.label_set(a),
            texts.label_set(b),
            "another text, another id"
        );
        assert_eq!(texts.label_set(NULL_ID), None);
    }
}
