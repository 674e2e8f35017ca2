//! The label maps of one column, as label sets: each distinct map is validated once, named by its
//! label-set id (the first 128 bits of the SHA-256 of its text, the name PostgreSQL knows it by)
//! and handed to the writer once; rows and groups carry a `u32` id.
//!
//! A map is recognised by its 128-bit SipHash-1-3 under a key drawn at random per object: SipHash
//! is a pseudo-random function, so two different maps of one file share a fingerprint with
//! probability about n²/2¹²⁹ (10⁻²⁷ for a million maps), whatever their content — the same
//! standard as the SHA-256-based label-set ids themselves. The texts are kept too while they fit:
//! then a row whose map is the one the hint guesses is recognised by comparing bytes, without
//! hashing. A large cluster has a map per pod (a unique `pod_template_hash`), whose texts outgrow
//! the ceiling long before the groups do: they are dropped then ([`LabelSetStore::drop_texts`]),
//! and every row is fingerprinted.

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;
use sha2::{Digest, Sha256};
use siphasher::sip128::SipHasher13;
use uuid::Uuid;

use super::texts::NULL_ID;
use crate::koku::labels;

/// A label set's id: the first 128 bits of the SHA-256 of its text. Equal texts share an id in
/// every object; a collision between different texts is not a practical concern, even for texts
/// chosen to collide.
pub fn label_set_id(text: &[u8]) -> Uuid {
    let digest = Sha256::digest(text);
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(id)
}

/// The distinct label maps of one column, in first-seen order.
pub struct LabelSetStore {
    fingerprinter: SipHasher13,
    fingerprints: Vec<u128>,
    set_ids: Vec<Uuid>,
    index: HashTable<u32>,
    /// Per id: the id that followed it in its column last time (see `texts`).
    next: Vec<u32>,
    new_sets: NewLabelSets,
    /// Per id, its text, while they are kept.
    texts: Option<Texts>,
}

/// Label-map texts back to back.
#[derive(Debug, Default)]
struct Texts {
    bytes: Vec<u8>,
    spans: Vec<(u32, u32)>,
}

impl Texts {
    fn get(&self, id: u32) -> Option<&[u8]> {
        let &(start, len) = self.spans.get(id as usize)?;
        self.bytes.get(start as usize..(start + len) as usize)
    }

    fn push(&mut self, text: &[u8]) -> Result<(), String> {
        let start = u32::try_from(self.bytes.len()).map_err(|_| "label maps over 4 GiB")?;
        self.bytes.extend_from_slice(text);
        self.spans.push((start, text.len() as u32));
        Ok(())
    }

    fn size(&self) -> usize {
        self.bytes.len() + self.spans.len() * 8
    }
}

/// Label sets seen for the first time and not yet handed to the writer.
#[derive(Debug, Default)]
pub struct NewLabelSets {
    bytes: Vec<u8>,
    sets: Vec<(Uuid, u32, u32)>,
}

impl NewLabelSets {
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// `(label-set id, label-map text)` of each; the texts were validated as UTF-8 JSON objects.
    pub fn iter(&self) -> impl Iterator<Item = (Uuid, &str)> {
        self.sets.iter().map(|&(id, start, len)| {
            let text = &self.bytes[start as usize..(start + len) as usize];
            (id, std::str::from_utf8(text).unwrap_or_default())
        })
    }

    pub fn size(&self) -> usize {
        self.bytes.capacity() + self.sets.capacity() * 24
    }

    fn push(&mut self, id: Uuid, text: &[u8]) -> Result<(), String> {
        let start = u32::try_from(self.bytes.len()).map_err(|_| "label maps over 4 GiB")?;
        self.bytes.extend_from_slice(text);
        self.sets.push((id, start, text.len() as u32));
        Ok(())
    }
}

impl Default for LabelSetStore {
    fn default() -> Self {
        let random = RandomState::new();
        LabelSetStore {
            fingerprinter: SipHasher13::new_with_keys(random.hash_one(1u8), random.hash_one(2u8)),
            fingerprints: Vec::new(),
            set_ids: Vec::new(),
            index: HashTable::new(),
            next: Vec::new(),
            new_sets: NewLabelSets::default(),
            texts: Some(Texts::default()),
        }
    }
}

impl LabelSetStore {
    pub fn len(&self) -> usize {
        self.set_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set_ids.is_empty()
    }

    /// The label-set id of `id`; `None` for NULL and skipped rows.
    pub fn set_id(&self, id: u32) -> Option<Uuid> {
        self.set_ids.get(id as usize).copied()
    }

    /// Heap bytes held, for the memory budget.
    pub fn size(&self) -> usize {
        self.fingerprints.capacity() * 16
            + self.set_ids.capacity() * 16
            + self.index.capacity() * 5
            + self.next.capacity() * 4
            + self.new_sets.size()
            + self.texts.as_ref().map_or(0, Texts::size)
    }

    /// Whether the texts are still kept.
    pub fn keeps_texts(&self) -> bool {
        self.texts.is_some()
    }

    /// Stops keeping the texts (they do not fit): rows are fingerprinted from now on.
    pub fn drop_texts(&mut self) {
        self.texts = None;
    }

    /// Bytes of label sets waiting for the writer.
    pub fn new_sets_size(&self) -> usize {
        self.new_sets.size()
    }

    /// The label sets seen first since the last call.
    pub fn take_new_sets(&mut self) -> NewLabelSets {
        std::mem::take(&mut self.new_sets)
    }

    /// The id of a label-map text, trying first the map that followed `previous` (the previous
    /// row's of the column; updated).
    pub fn intern_next(&mut self, text: &[u8], previous: &mut u32) -> Result<u32, String> {
        let guess = (self.next.get(*previous as usize).copied()).filter(|&g| g != NULL_ID);
        if let (Some(g), Some(texts)) = (guess, &self.texts)
            && texts.get(g) == Some(text)
        {
            *previous = g;
            return Ok(g);
        }
        let fingerprint = self.fingerprinter.hash(text).as_u128();
        let id = match guess {
            Some(g) if self.texts.is_none() && self.fingerprints[g as usize] == fingerprint => g,
            _ => {
                let id = self.intern(text, fingerprint)?;
                if let Some(slot) = self.next.get_mut(*previous as usize) {
                    *slot = id;
                }
                id
            }
        };
        *previous = id;
        Ok(id)
    }

    /// The id of a label-map text (dictionary values, one at a time).
    pub fn intern_one(&mut self, text: &[u8]) -> Result<u32, String> {
        let fingerprint = self.fingerprinter.hash(text).as_u128();
        self.intern(text, fingerprint)
    }

    fn intern(&mut self, text: &[u8], fingerprint: u128) -> Result<u32, String> {
        let fingerprints = &self.fingerprints;
        let hash = fingerprint as u64;
        if let Some(&id) = self
            .index
            .find(hash, |&id| fingerprints[id as usize] == fingerprint)
        {
            return Ok(id);
        }
        let utf8 = std::str::from_utf8(text).map_err(|e| format!("label map is not UTF-8: {e}"))?;
        labels::validate(utf8)?;
        let id = self.set_ids.len() as u32;
        let set_id = label_set_id(text);
        self.new_sets.push(set_id, text)?;
        if let Some(texts) = &mut self.texts {
            texts.push(text)?;
        }
        self.fingerprints.push(fingerprint);
        self.set_ids.push(set_id);
        self.next.push(NULL_ID);
        let fingerprints = &self.fingerprints;
        self.index
            .insert_unique(hash, id, |&id| fingerprints[id as usize] as u64);
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_sets_are_named_by_their_text() {
        // SHA-256 of the 14 bytes {"app": "web"}, first 16 bytes (sha256sum of the same text).
        assert_eq!(
            label_set_id(br#"{"app": "web"}"#).to_string(),
            "89c8bd7b-ab99-479e-6fe2-b2a3a9fe911f"
        );
        assert_ne!(
            label_set_id(br#"{"app": "web"}"#),
            label_set_id(br#"{"app":"web"}"#),
            "another text, another id"
        );
    }

    #[test]
    fn each_map_is_validated_and_handed_over_once() {
        let mut s = LabelSetStore::default();
        let mut previous = NULL_ID;
        let maps = [r#"{"app": "a"}"#, r#"{"app": "b"}"#, r#"{"app": "a"}"#];
        let ids: Vec<u32> = maps
            .iter()
            .map(|m| s.intern_next(m.as_bytes(), &mut previous).unwrap())
            .collect();
        assert_eq!(ids, [0, 1, 0]);
        assert_eq!(s.set_id(0), Some(label_set_id(maps[0].as_bytes())));
        let new: Vec<(Uuid, String)> = s
            .take_new_sets()
            .iter()
            .map(|(id, t)| (id, t.to_owned()))
            .collect();
        assert_eq!(new.len(), 2);
        assert_eq!(new[1].1, maps[1]);
        assert_eq!(s.intern_one(maps[1].as_bytes()).unwrap(), 1);
        assert!(s.take_new_sets().is_empty(), "already handed over");
        // Without the texts, maps are told apart by fingerprint alone: the same ids.
        s.drop_texts();
        assert!(!s.keeps_texts());
        let again: Vec<u32> = maps
            .iter()
            .map(|m| s.intern_next(m.as_bytes(), &mut previous).unwrap())
            .collect();
        assert_eq!(again, [0, 1, 0]);
        assert!(
            s.intern_one(b"[1]")
                .unwrap_err()
                .contains("not a JSON object")
        );
        assert_eq!(s.len(), 2, "a refused map is not stored");
    }
}
