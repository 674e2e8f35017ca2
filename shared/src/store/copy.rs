//! Binary COPY of aggregated partial rows. The column list comes from the same [`AggregateSpec`] that
//! drove the aggregation, so reader, aggregator and writer cannot disagree about a column.
//!
//! A label-map key column is written as `<name>_id`, the id of a label set stored once per object in
//! `ocp_label_set`: a file holds thousands of distinct maps over millions of rows, and PostgreSQL
//! parsing a jsonb per partial row cost a third of the COPY. Hour-grain groups are written one row
//! per day, each value column an array of the 24 hours (NULL for hours without a group):
//! PostgreSQL's cost is per row.

use std::error::Error as StdError;
use std::pin::pin;

use bytes::{BufMut, BytesMut};
use chrono::NaiveDate;
use postgres_types::{IsNull, ToSql, Type, to_sql_checked};
use rustc_hash::FxHashMap;
use tokio_postgres::Transaction;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use uuid::Uuid;

use crate::aggregate::TableChunk;
use crate::error::Result;
use crate::intern::Texts;
use crate::report::Grain;

/// One field of a COPY row.
#[derive(Debug)]
enum Cell<'a> {
    BigInt(i64),
    Uuid(Option<Uuid>),
    Date(NaiveDate),
    Text(Option<&'a str>),
    /// Label-map JSON text, already validated; sent as jsonb without re-serialising.
    Jsonb(Option<&'a str>),
    Float(Option<f64>),
    Floats(Vec<Option<f64>>),
}

impl ToSql for Cell<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Cell::BigInt(v) => v.to_sql(ty, out),
            Cell::Uuid(v) => v.to_sql(ty, out),
            Cell::Date(v) => v.to_sql(ty, out),
            Cell::Floats(v) => v.to_sql(ty, out),
            Cell::Text(v) => v.to_sql(ty, out),
            Cell::Float(v) => v.to_sql(ty, out),
            Cell::Jsonb(None) => Ok(IsNull::Yes),
            Cell::Jsonb(Some(text)) => {
                out.put_u8(1); // jsonb binary format version
                out.put_slice(text.as_bytes());
                Ok(IsNull::No)
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// Column names and types of a table chunk's COPY, in row order.
fn columns(chunk: &TableChunk) -> (Vec<String>, Vec<Type>) {
    let spec = chunk.spec;
    let mut names: Vec<String> = ["object_id", "source_uuid", "usage_start"]
        .map(String::from)
        .into();
    let mut types = vec![Type::INT8, Type::UUID, Type::DATE];
    for k in spec.keys {
        if k.labels {
            names.push(format!("{}_id", k.name));
            types.push(Type::UUID);
        } else {
            names.push(k.name.into());
            types.push(Type::TEXT);
        }
    }
    for t in spec.text_maxes {
        names.push(t.name.into());
        types.push(Type::TEXT);
    }
    for v in spec.sums.iter().chain(spec.maxes) {
        names.push(v.name.into());
        types.push(match spec.grain {
            Grain::Day => Type::FLOAT8,
            Grain::Hour => Type::FLOAT8_ARRAY,
        });
    }
    (names, types)
}

/// Writes label sets of one object: `(id, label-map text)`.
pub(crate) async fn copy_label_sets(
    tx: &Transaction<'_>,
    sets: &[(Uuid, &str)],
    object_id: i64,
) -> Result<()> {
    if sets.is_empty() {
        return Ok(());
    }
    let sink = tx.copy_in(COPY_LABEL_SETS).await?;
    let types = [Type::INT8, Type::UUID, Type::JSONB];
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));
    for &(id, text) in sets {
        let row = [
            Cell::BigInt(object_id),
            Cell::Uuid(Some(id)),
            Cell::Jsonb(Some(text)),
        ];
        writer.as_mut().write_raw(row.iter()).await?;
    }
    writer.as_mut().finish().await?;
    Ok(())
}

const COPY_LABEL_SETS: &str = include_str!("../../sql/ingest/copy_label_sets.sql");

/// Writes one table chunk; returns the rows written.
pub(crate) async fn copy_chunk(
    tx: &Transaction<'_>,
    chunk: &TableChunk,
    texts: &Texts,
    object_id: i64,
    source: Uuid,
) -> Result<u64> {
    if chunk.keys.is_empty() {
        return Ok(0);
    }
    let (names, types) = columns(chunk);
    let statement = format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        chunk.spec.table,
        names.join(", ")
    );
    let sink = tx.copy_in(&statement).await?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));
    let spec = chunk.spec;
    let value = |v: f64| (!v.is_nan()).then_some(v);
    let mut row: Vec<Cell<'_>> = Vec::with_capacity(names.len());
    match spec.grain {
        Grain::Day => {
            for (group, key) in chunk.keys.iter().enumerate() {
                row.clear();
                push_key(
                    &mut row,
                    (object_id, source, key[0] as i32 as i64),
                    key,
                    chunk,
                    texts,
                );
                for ids in &chunk.text_maxes {
                    row.push(Cell::Text(texts.get(ids[group])));
                }
                for values in &chunk.values {
                    row.push(Cell::Float(value(values[group])));
                }
                writer.as_mut().write_raw(row.iter()).await?;
            }
        }
        Grain::Hour => {
            for day in hours_by_day(chunk) {
                row.clear();
                push_key(
                    &mut row,
                    (object_id, source, day.day),
                    day.key,
                    chunk,
                    texts,
                );
                let groups = || day.hours.iter().flatten().map(|&g| g as usize);
                for ids in &chunk.text_maxes {
                    row.push(Cell::Text(groups().filter_map(|g| texts.get(ids[g])).max()));
                }
                for values in &chunk.values {
                    let hours = day
                        .hours
                        .iter()
                        .map(|g| g.and_then(|g| value(values[g as usize])));
                    row.push(Cell::Floats(hours.collect()));
                }
                writer.as_mut().write_raw(row.iter()).await?;
            }
        }
    }
    Ok(writer.as_mut().finish().await?)
}

/// The cells every partial row starts with: object, source, day, then the key's text columns.
fn push_key<'a>(
    row: &mut Vec<Cell<'a>>,
    (object_id, source, day): (i64, Uuid, i64),
    key: &[u32],
    chunk: &TableChunk,
    texts: &'a Texts,
) {
    row.push(Cell::BigInt(object_id));
    row.push(Cell::Uuid(Some(source)));
    row.push(Cell::Date(epoch_day(day)));
    for (k, &id) in chunk.spec.keys.iter().zip(&key[1..]) {
        row.push(if k.labels {
            Cell::Uuid(texts.label_set(id))
        } else {
            Cell::Text(texts.get(id))
        });
    }
}

/// One day of an hour-grain table's key: the group of each hour (UTC), where there is one.
struct HourlyRow<'k> {
    day: i64,
    /// The group key (`[hour, text ids...]`) of any of its hours; only the text ids are used.
    key: &'k [u32],
    hours: [Option<u32>; 24],
}

/// Hour-grain groups gathered into days, in order of their first group.
fn hours_by_day(chunk: &TableChunk) -> Vec<HourlyRow<'_>> {
    let mut row_of: FxHashMap<(i64, &[u32]), usize> = FxHashMap::default();
    let mut rows: Vec<HourlyRow<'_>> = Vec::new();
    for (group, key) in chunk.keys.iter().enumerate() {
        let hour = key[0] as i32 as i64;
        let day = hour.div_euclid(24);
        let at = *row_of.entry((day, &key[1..])).or_insert_with(|| {
            rows.push(HourlyRow {
                day,
                key,
                hours: [None; 24],
            });
            rows.len() - 1
        });
        rows[at].hours[hour.rem_euclid(24) as usize] = Some(group as u32);
    }
    rows
}

/// Days since 1970-01-01 as a date (group keys store days as `u32` of an `i32`).
pub fn epoch_day(day: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt((day + 719_163) as i32).unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hourly_groups_become_one_row_per_day_and_key() {
        use crate::group_index::GroupIndex;
        use crate::report::ReportType;
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
            values: vec![vec![1.0, 2.0, 3.0, 4.0]; 2],
            text_maxes: vec![],
        };
        let rows = hours_by_day(&chunk);
        type Shape = (i64, u32, Vec<(usize, u32)>);
        let shape: Vec<Shape> = rows
            .iter()
            .map(|r| {
                let hours = (r.hours.iter().enumerate())
                    .filter_map(|(h, g)| g.map(|g| (h, g)))
                    .collect();
                (r.day, r.key[1], hours)
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
    fn epoch_days_are_dates() {
        assert_eq!(epoch_day(0), NaiveDate::from_ymd_opt(1970, 1, 1).unwrap());
        assert_eq!(
            epoch_day(20393),
            NaiveDate::from_ymd_opt(2025, 11, 1).unwrap()
        );
    }
}
