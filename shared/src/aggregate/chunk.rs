//! Chunks: groups taken out of the aggregation, self-contained, for the writer. A chunk owns the
//! texts its rows refer to (each once, in a chunk-local dictionary per column) and the label sets
//! first seen since the previous chunk, so the writer needs nothing from the aggregation that goes
//! on meanwhile.

use rustc_hash::FxHashMap;
use uuid::Uuid;

use super::columns::Stores;
use super::group_index::GroupKeys;
use super::groups::TakenGroups;
use super::label_sets::NewLabelSets;
use super::texts::{NULL_ID, TextStore};
use crate::koku::report::AggregateSpec;

/// Groups of one object, ready to write.
#[derive(Debug, Default)]
pub struct PartialChunk {
    /// Label sets the object's rows name for the first time (each written once per object).
    pub label_sets: Vec<NewLabelSets>,
    pub tables: Vec<TableChunk>,
}

/// Groups of one aggregate. Row `g` of every column is group `g`.
#[derive(Debug)]
pub struct TableChunk {
    pub spec: &'static AggregateSpec,
    /// `[grain, ids...]` per group: the grain (day or hour since the epoch as `u32` of an `i32`)
    /// and ids that tell the groups' key values apart (equal ids, equal values).
    pub keys: GroupKeys,
    /// Per key column of the spec, its values.
    pub key_columns: Vec<KeyColumn>,
    /// Per text-max column of the spec.
    pub text_maxes: Vec<ChunkText>,
    /// Per value (sums, then maxes): NaN is no value (NULL).
    pub values: Vec<Vec<f64>>,
}

#[derive(Debug)]
pub enum KeyColumn {
    Text(ChunkText),
    /// The label-set id of each group's label map.
    LabelSets(Vec<Option<Uuid>>),
}

/// One text column of a chunk: its distinct values once, and per group which one.
#[derive(Debug, Default)]
pub struct ChunkText {
    bytes: Vec<u8>,
    spans: Vec<(u32, u32)>,
    /// Per group, an index into the values; [`NULL_ID`] for NULL.
    ids: Vec<u32>,
}

impl ChunkText {
    /// Resolves store ids to their texts.
    fn gather(store: Option<&TextStore>, ids: impl Iterator<Item = u32>) -> ChunkText {
        let mut chunk = ChunkText::default();
        let mut local: FxHashMap<u32, u32> = FxHashMap::default();
        for id in ids {
            let text = store.and_then(|s| s.get(id));
            let local_id = match text {
                None => NULL_ID,
                Some(text) => *local.entry(id).or_insert_with(|| {
                    chunk
                        .spans
                        .push((chunk.bytes.len() as u32, text.len() as u32));
                    chunk.bytes.extend_from_slice(text);
                    chunk.spans.len() as u32 - 1
                }),
            };
            chunk.ids.push(local_id);
        }
        chunk
    }

    /// The text of group `g`; `None` for NULL. Texts were read from string columns, so they are
    /// UTF-8.
    pub fn get(&self, g: usize) -> Option<&str> {
        let &(start, len) = self.spans.get(*self.ids.get(g)? as usize)?;
        std::str::from_utf8(&self.bytes[start as usize..(start + len) as usize]).ok()
    }

    fn size(&self) -> usize {
        self.bytes.capacity() + self.spans.capacity() * 8 + self.ids.capacity() * 4
    }
}

impl TableChunk {
    /// A chunk of `groups` of a table whose keys and text maxima are in `key_slots` and
    /// `text_max_slots` of `stores`.
    pub fn new(
        spec: &'static AggregateSpec,
        (key_slots, text_max_slots): (&[usize], &[usize]),
        groups: TakenGroups,
        stores: &Stores,
    ) -> Self {
        let column = |position: usize| groups.keys.iter().map(move |k| k[1 + position]);
        let key_columns = key_slots
            .iter()
            .enumerate()
            .map(|(p, &slot)| match stores.labels(slot) {
                Some(sets) => KeyColumn::LabelSets(column(p).map(|id| sets.set_id(id)).collect()),
                None => KeyColumn::Text(ChunkText::gather(stores.text(slot), column(p))),
            })
            .collect();
        let text_maxes = (text_max_slots.iter().zip(&groups.text_maxes))
            .map(|(&slot, ids)| ChunkText::gather(stores.text(slot), ids.iter().copied()))
            .collect();
        TableChunk {
            spec,
            keys: groups.keys,
            key_columns,
            text_maxes,
            values: groups.values,
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn size(&self) -> usize {
        let keys: usize = (self.key_columns.iter())
            .map(|c| match c {
                KeyColumn::Text(t) => t.size(),
                KeyColumn::LabelSets(s) => s.capacity() * 17,
            })
            .sum();
        keys + self.keys.size()
            + self.text_maxes.iter().map(ChunkText::size).sum::<usize>()
            + self.values.iter().map(|v| v.capacity() * 8).sum::<usize>()
    }
}

impl PartialChunk {
    pub fn group_count(&self) -> usize {
        self.tables.iter().map(TableChunk::len).sum()
    }

    pub fn label_set_count(&self) -> usize {
        self.label_sets.iter().map(NewLabelSets::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.group_count() == 0 && self.label_set_count() == 0
    }

    /// Heap bytes held, for the memory budget while the writer has it.
    pub fn size(&self) -> usize {
        self.tables.iter().map(TableChunk::size).sum::<usize>()
            + self
                .label_sets
                .iter()
                .map(NewLabelSets::size)
                .sum::<usize>()
    }
}
