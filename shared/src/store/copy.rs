//! Binary COPY of aggregated partial rows. The column list comes from the same [`AggregateSpec`] that
//! drove the aggregation, so reader, aggregator and writer cannot disagree about a column.
//!
//! A label-map key column is written as `<name>_id`, the id of a label set stored once per object in
//! `ocp_label_set`: a file holds thousands of distinct maps over millions of rows, and PostgreSQL
//! parsing a jsonb per partial row cost a third of the COPY.

use std::error::Error as StdError;
use std::pin::pin;

use bytes::{BufMut, BytesMut};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use postgres_types::{IsNull, ToSql, Type, to_sql_checked};
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
    Timestamp(NaiveDateTime),
    Text(Option<&'a str>),
    /// Label-map JSON text, already validated; sent as jsonb without re-serialising.
    Jsonb(Option<&'a str>),
    Float(Option<f64>),
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
            Cell::Timestamp(v) => v.to_sql(ty, out),
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
    if spec.grain == Grain::Hour {
        names.push("interval_start".into());
        types.push(Type::TIMESTAMP);
    }
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
        types.push(Type::FLOAT8);
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
    let mut row: Vec<Cell<'_>> = Vec::with_capacity(names.len());
    for (group, key) in chunk.keys.iter().enumerate() {
        row.clear();
        row.push(Cell::BigInt(object_id));
        row.push(Cell::Uuid(Some(source)));
        match spec.grain {
            Grain::Day => row.push(Cell::Date(epoch_day(key[0] as i32 as i64))),
            Grain::Hour => {
                let hour = key[0] as i64;
                row.push(Cell::Date(epoch_day(hour.div_euclid(24))));
                let at = DateTime::from_timestamp(hour * 3600, 0).unwrap_or_default();
                row.push(Cell::Timestamp(at.naive_utc()));
            }
        }
        for (k, &id) in spec.keys.iter().zip(&key[1..]) {
            row.push(if k.labels {
                Cell::Uuid(texts.label_set(id))
            } else {
                Cell::Text(texts.get(id))
            });
        }
        for ids in &chunk.text_maxes {
            row.push(Cell::Text(texts.get(ids[group])));
        }
        for values in &chunk.values {
            let v = values[group];
            row.push(Cell::Float((!v.is_nan()).then_some(v)));
        }
        writer.as_mut().write_raw(row.iter()).await?;
    }
    Ok(writer.as_mut().finish().await?)
}

/// Days since 1970-01-01 as a date (group keys store days as `u32` of an `i32`).
pub fn epoch_day(day: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt((day + 719_163) as i32).unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_days_are_dates() {
        assert_eq!(epoch_day(0), NaiveDate::from_ymd_opt(1970, 1, 1).unwrap());
        assert_eq!(
            epoch_day(20393),
            NaiveDate::from_ymd_opt(2025, 11, 1).unwrap()
        );
    }
}
