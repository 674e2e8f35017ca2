//! Binary COPY of aggregated partial rows. The column list comes from the same [`AggregateSpec`] that
//! drove the aggregation, so reader, aggregator and writer cannot disagree about a column.
//!
//! A label-map key column is written as `<name>_id`, the id of a label set stored once per object in
//! `ocp_label_set`: a file holds thousands of distinct maps over millions of rows, and PostgreSQL
//! parsing a jsonb per partial row cost a third of the COPY. Hour-grain groups are written one row
//! per day, each value column an array of the 24 hours (NULL for hours without a group):
//! PostgreSQL's cost is per row.

use std::pin::pin;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::SinkExt;
use rustc_hash::FxHashMap;
use tokio_postgres::Transaction;
use uuid::Uuid;

use crate::aggregate::label_sets::NewLabelSets;
use crate::aggregate::{KeyColumn, TableChunk};
use crate::error::Result;
use crate::koku::report::Grain;
use crate::time::{self, EpochDay};

/// Column names of a table chunk's COPY, in row order.
fn columns(chunk: &TableChunk) -> Vec<String> {
    let spec = chunk.spec;
    let mut names: Vec<String> = ["object_id", "source_uuid", "usage_start"]
        .map(String::from)
        .into();
    names.extend(spec.keys.iter().map(|k| k.partial_column()));
    names.extend(spec.text_maxes.iter().map(|t| t.name.into()));
    names.extend(spec.sums.iter().chain(spec.maxes).map(|v| v.name.into()));
    names
}

/// Writes label sets of one object: `(id, label-map text)`; to the staging table when `staged`.
pub(crate) async fn copy_label_sets(
    tx: &Transaction<'_>,
    sets: &NewLabelSets,
    object_id: i64,
    staged: bool,
) -> Result<()> {
    if sets.is_empty() {
        return Ok(());
    }
    let statement = if staged {
        COPY_STAGED_LABEL_SETS
    } else {
        COPY_LABEL_SETS
    };
    let mut sink = pin!(tx.copy_in::<_, Bytes>(statement).await?);
    let mut rows = BinaryRows::new();
    for (id, text) in sets.iter() {
        rows.row(3);
        rows.int8(object_id);
        rows.uuid(Some(id));
        rows.jsonb(text);
        if let Some(piece) = rows.ready() {
            sink.send(piece).await?;
        }
    }
    sink.send(rows.finish()).await?;
    sink.as_mut().finish().await?;
    Ok(())
}

const COPY_LABEL_SETS: &str = include_str!("../../sql/ingest/copy_label_sets.sql");
const COPY_STAGED_LABEL_SETS: &str = include_str!("../../sql/ingest/copy_staged_label_sets.sql");

/// Writes one table chunk; returns the rows written.
pub(crate) async fn copy_chunk(
    tx: &Transaction<'_>,
    chunk: &TableChunk,
    object_id: i64,
    source: Uuid,
) -> Result<u64> {
    if chunk.keys.is_empty() {
        return Ok(0);
    }
    let names = columns(chunk);
    let statement = format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        chunk.spec.table,
        names.join(", ")
    );
    let mut sink = pin!(tx.copy_in::<_, Bytes>(&statement).await?);
    let mut rows = BinaryRows::new();
    match chunk.spec.grain {
        Grain::Day => {
            for (group, key) in chunk.keys.iter().enumerate() {
                rows.row(names.len());
                rows.key((object_id, source, key[0] as EpochDay), group, chunk);
                for maxes in &chunk.text_maxes {
                    rows.text(maxes.get(group));
                }
                for values in &chunk.values {
                    rows.float8(values[group]);
                }
                if let Some(piece) = rows.ready() {
                    sink.send(piece).await?;
                }
            }
        }
        Grain::Hour => {
            for day in hours_by_day(chunk) {
                rows.row(names.len());
                rows.key((object_id, source, day.day), day.group, chunk);
                let groups = || day.hours.iter().flatten().map(|&g| g as usize);
                for maxes in &chunk.text_maxes {
                    rows.text(groups().filter_map(|g| maxes.get(g)).max());
                }
                for values in &chunk.values {
                    let hour = |g: &Option<u32>| g.map_or(f64::NAN, |g| values[g as usize]);
                    rows.float8_array(day.hours.iter().map(hour));
                }
                if let Some(piece) = rows.ready() {
                    sink.send(piece).await?;
                }
            }
        }
    }
    sink.send(rows.finish()).await?;
    Ok(sink.as_mut().finish().await?)
}

/// Rows in PostgreSQL's binary COPY format, handed out in pieces as they fill, so the server parses
/// one piece while the next is encoded. Written by hand: it is the hot loop of the writer, and a
/// field is a length and a few bytes.
struct BinaryRows {
    buf: BytesMut,
}

/// Bytes of a piece handed out.
const PIECE: usize = 256 * 1024;
const FLOAT8_OID: u32 = 701;

impl BinaryRows {
    fn new() -> Self {
        let mut buf = BytesMut::with_capacity(PIECE + PIECE / 4);
        buf.put_slice(b"PGCOPY\n\xff\r\n\0");
        buf.put_i32(0); // flags
        buf.put_i32(0); // header extension length
        BinaryRows { buf }
    }

    fn row(&mut self, fields: usize) {
        self.buf.put_i16(fields as i16);
    }

    fn null(&mut self) {
        self.buf.put_i32(-1);
    }

    fn int8(&mut self, v: i64) {
        self.buf.put_i32(8);
        self.buf.put_i64(v);
    }

    fn uuid(&mut self, v: Option<Uuid>) {
        match v {
            Some(v) => {
                self.buf.put_i32(16);
                self.buf.put_slice(v.as_bytes());
            }
            None => self.null(),
        }
    }

    fn date(&mut self, day: EpochDay) {
        self.buf.put_i32(4);
        self.buf.put_i32(time::pg_date(day));
    }

    fn text(&mut self, v: Option<&str>) {
        match v {
            Some(s) => {
                self.buf.put_i32(s.len() as i32);
                self.buf.put_slice(s.as_bytes());
            }
            None => self.null(),
        }
    }

    /// Label-map JSON text, already validated; sent as jsonb without re-serialising.
    fn jsonb(&mut self, text: &str) {
        self.buf.put_i32(1 + text.len() as i32);
        self.buf.put_u8(1); // jsonb binary format version
        self.buf.put_slice(text.as_bytes());
    }

    /// NaN (no value) is NULL.
    fn float8(&mut self, v: f64) {
        if v.is_nan() {
            self.null();
        } else {
            self.buf.put_i32(8);
            self.buf.put_f64(v);
        }
    }

    /// A one-dimensional float8[]; NaN elements are NULL.
    fn float8_array(&mut self, values: impl ExactSizeIterator<Item = f64>) {
        let elements = values.len();
        let length_at = self.buf.len();
        self.buf.put_i32(0); // the field's length, set below
        let start = self.buf.len();
        self.buf.put_i32(1); // dimensions
        let has_null_at = self.buf.len();
        self.buf.put_i32(0);
        self.buf.put_u32(FLOAT8_OID);
        self.buf.put_i32(elements as i32);
        self.buf.put_i32(1); // lower bound
        let mut has_null = false;
        for v in values {
            has_null |= v.is_nan();
            self.float8(v);
        }
        let length = (self.buf.len() - start) as i32;
        self.buf[length_at..length_at + 4].copy_from_slice(&length.to_be_bytes());
        self.buf[has_null_at..has_null_at + 4].copy_from_slice(&(has_null as i32).to_be_bytes());
    }

    /// The cells every partial row starts with: object, source, day, then group `g`'s key.
    fn key(
        &mut self,
        (object_id, source, day): (i64, Uuid, EpochDay),
        g: usize,
        chunk: &TableChunk,
    ) {
        self.int8(object_id);
        self.uuid(Some(source));
        self.date(day);
        for column in &chunk.key_columns {
            match column {
                KeyColumn::Text(texts) => self.text(texts.get(g)),
                KeyColumn::LabelSets(sets) => self.uuid(sets.get(g).copied().flatten()),
            }
        }
    }

    /// The bytes encoded so far, once they fill a piece.
    fn ready(&mut self) -> Option<Bytes> {
        (self.buf.len() >= PIECE).then(|| self.buf.split().freeze())
    }

    /// The rest of the bytes, with the trailer.
    fn finish(mut self) -> Bytes {
        self.buf.put_i16(-1);
        self.buf.freeze()
    }
}

/// One day of an hour-grain table's key: the group of each hour (UTC), where there is one.
struct HourlyRow {
    day: EpochDay,
    /// A group of the day (any: they share the key); its key cells are written.
    group: usize,
    hours: [Option<u32>; 24],
}

/// Hour-grain groups gathered into days, in order of their first group.
fn hours_by_day(chunk: &TableChunk) -> Vec<HourlyRow> {
    let mut row_of: FxHashMap<(EpochDay, &[u32]), usize> = FxHashMap::default();
    let mut rows: Vec<HourlyRow> = Vec::new();
    for (group, key) in chunk.keys.iter().enumerate() {
        let hour = key[0] as i32 as i64;
        let day = time::day_of_hour(hour);
        let at = *row_of.entry((day, &key[1..])).or_insert_with(|| {
            rows.push(HourlyRow {
                day,
                group,
                hours: [None; 24],
            });
            rows.len() - 1
        });
        rows[at].hours[time::hour_in_day(hour)] = Some(group as u32);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hourly_groups_become_one_row_per_day_and_key() {
        use crate::aggregate::group_index::GroupIndex;
        use crate::koku::report::ReportType;
        // Node 7 at hours 0 and 23 of day 20393 and hour 0 of the next day; node 8 at hour 5.
        let day = 20393 * 24;
        let mut index = GroupIndex::new(2, None);
        for key in [[day, 7], [day + 23, 7], [day + 24, 7], [day + 5, 8]] {
            index.find_or_insert(&key);
        }
        let spec = &ReportType::PodUsage.spec().aggregates[1];
        assert_eq!(spec.grain, Grain::Hour);
        let chunk = TableChunk {
            spec,
            keys: index.into_keys(),
            key_columns: vec![],
            values: vec![vec![1.0, 2.0, 3.0, 4.0]; 2],
            text_maxes: vec![],
        };
        let rows = hours_by_day(&chunk);
        type Shape = (EpochDay, u32, Vec<(usize, u32)>);
        let shape: Vec<Shape> = rows
            .iter()
            .map(|r| {
                let hours = (r.hours.iter().enumerate())
                    .filter_map(|(h, g)| g.map(|g| (h, g)))
                    .collect();
                (r.day, chunk.keys.iter().nth(r.group).unwrap()[1], hours)
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                (20393, 7, vec![(0, 0), (23, 1)]),
                (20394, 7, vec![(0, 2)]),
                (20393, 8, vec![(5, 3)]),
            ]
        );
    }

    #[test]
    fn rows_are_encoded_in_postgres_binary_copy_format() {
        let mut rows = BinaryRows::new();
        rows.row(7);
        rows.int8(7);
        rows.uuid(None);
        rows.date(10_958); // 2000-01-02
        rows.text(Some("ab"));
        rows.float8(f64::NAN);
        rows.float8(1.5);
        rows.float8_array([1.0, f64::NAN].into_iter());
        assert!(rows.ready().is_none(), "far from a piece");
        let bytes = rows.finish();
        // By hand, from the format's description in PostgreSQL's COPY documentation.
        let mut expected: Vec<u8> = b"PGCOPY\n\xff\r\n\0".to_vec();
        expected.extend([0, 0, 0, 0, 0, 0, 0, 0]); // flags, header extension
        expected.extend([0, 7]); // fields
        expected.extend([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7]); // int8 7
        expected.extend([0xff; 4]); // NULL uuid
        expected.extend([0, 0, 0, 4, 0, 0, 0, 1]); // 2000-01-02
        expected.extend([0, 0, 0, 2, b'a', b'b']);
        expected.extend([0xff; 4]); // NaN: NULL
        expected.extend([0, 0, 0, 8, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]); // 1.5
        expected.extend([0, 0, 0, 36]); // array field: 20 header bytes, 12 + 4 for the elements
        expected.extend([
            0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0x02, 0xbd, 0, 0, 0, 2, 0, 0, 0, 1,
        ]);
        expected.extend([0, 0, 0, 8, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]); // 1.0
        expected.extend([0xff; 4]); // NULL element
        expected.extend([0xff, 0xff]); // trailer
        assert_eq!(&bytes[..], &expected[..]);
    }
}
