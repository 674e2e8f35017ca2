//! String interning for group keys: every distinct text value of a file is hashed once, after which
//! rows carry `u32` ids. Dictionary-encoded Parquet columns make this per distinct value, not per row.

use std::sync::Arc;

use rustc_hash::FxHashMap;

/// The id standing for SQL NULL (a missing optional column or a null cell).
pub const NULL_ID: u32 = u32::MAX;

#[derive(Debug, Default)]
pub struct Interner {
    ids: FxHashMap<Arc<str>, u32>,
    texts: Texts,
    /// Whether the value has been checked as a label map (validated once per distinct value).
    label_checked: Vec<bool>,
    bytes: usize,
}

/// The text of each id. Shared with the interner that made it (one allocation per string), so a
/// writer can hold the texts of a chunk while the interner goes on.
#[derive(Debug, Default, Clone)]
pub struct Texts(Vec<Arc<str>>);

impl Texts {
    /// The text of an id; `None` for [`NULL_ID`].
    pub fn get(&self, id: u32) -> Option<&str> {
        self.0.get(id as usize).map(|s| &**s)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
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
        self.texts.0.push(shared);
        self.label_checked.push(false);
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

    pub fn label_checked(&self, id: u32) -> bool {
        self.label_checked.get(id as usize).copied().unwrap_or(true)
    }

    pub fn mark_label_checked(&mut self, id: u32) {
        if let Some(flag) = self.label_checked.get_mut(id as usize) {
            *flag = true;
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
}
