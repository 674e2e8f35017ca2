//! Planning the read of one object: which leaf columns the report needs (checked against the
//! file's schema, with the type each is read as) and the byte ranges of their column chunks.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};
use parquet::basic::Type as PhysicalType;
use parquet::file::metadata::ParquetMetaData;

use crate::koku::report::{ColumnKind, InputColumn};

/// Column chunks closer than this are fetched as one request, while it stays under
/// [`MERGE_LIMIT`]: small chunks share a request, large ones get their own so that every column of a
/// row group arrives at once and decoding can start on its first pages.
const MERGE_GAP: u64 = 64 * 1024;
const MERGE_LIMIT: u64 = 1 << 20;

/// What to read of a file, and as what.
pub(super) struct Projection {
    /// The leaf columns to read.
    pub leaves: Vec<usize>,
    /// The time column's leaf and field index.
    pub time: Option<(usize, usize)>,
    /// The type each of the file's columns is read as (text as dictionaries).
    pub hint: Arc<Schema>,
    /// The text columns read: field index in `hint`, leaf.
    pub text_columns: Vec<(usize, usize)>,
    /// The columns of the decoded batches, in order.
    pub schema: Arc<Schema>,
}

/// Finds each wanted top-level column's leaf, checks its type, and builds the reader's schema hint.
pub(super) fn plan_projection(
    metadata: &ParquetMetaData,
    columns: &[InputColumn],
) -> Result<Projection, String> {
    let descr = metadata.file_metadata().schema_descr();
    let inferred = parquet::arrow::parquet_to_arrow_schema(
        descr,
        metadata.file_metadata().key_value_metadata(),
    )
    .map_err(|e| format!("unreadable schema: {e}"))?;

    let mut leaves = Vec::new();
    let mut projected = Vec::new();
    let mut text_columns = Vec::new();
    let mut time_leaf = None;
    let mut missing = Vec::new();
    let mut fields: Vec<Field> = inferred
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    for &InputColumn {
        name,
        kind,
        required,
    } in columns
    {
        let matching: Vec<usize> = descr
            .columns()
            .iter()
            .enumerate()
            .filter(|(_, c)| c.path().parts().first().map(String::as_str) == Some(name))
            .map(|(i, _)| i)
            .collect();
        let Some(field_index) = fields.iter().position(|f| f.name() == name) else {
            if required {
                missing.push(name);
            }
            continue;
        };
        let [leaf] = matching[..] else {
            return Err(format!("column {name} is nested; expected a flat column"));
        };
        let field = &fields[field_index];
        let physical = descr.column(leaf).physical_type();
        let data_type = field.data_type();
        let wrong = || format!("column {name} has type {data_type}, expected {kind:?}");
        let new_type = match kind {
            ColumnKind::Time => match data_type {
                DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => {
                    time_leaf = Some((leaf, field_index));
                    None
                }
                _ => return Err(wrong()),
            },
            ColumnKind::Number if data_type.is_numeric() || *data_type == DataType::Null => None,
            ColumnKind::Number => return Err(wrong()),
            // Text is read as dictionaries: rows then carry small keys, not copied strings.
            ColumnKind::Text => match data_type {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                    if physical == PhysicalType::BYTE_ARRAY =>
                {
                    text_columns.push((field_index, leaf));
                    Some(DataType::Dictionary(
                        Box::new(DataType::Int32),
                        Box::new(DataType::Utf8),
                    ))
                }
                DataType::Dictionary(_, v) if v.is_string() => {
                    if physical == PhysicalType::BYTE_ARRAY {
                        text_columns.push((field_index, leaf));
                    }
                    None
                }
                DataType::Null => None,
                _ => return Err(wrong()),
            },
        };
        if let Some(t) = new_type {
            fields[field_index] = field.clone().with_data_type(t);
        }
        leaves.push(leaf);
        projected.push(field_index);
    }
    if !missing.is_empty() {
        return Err(format!(
            "missing required column(s): {}",
            missing.join(", ")
        ));
    }
    projected.sort_unstable();
    let schema = Schema::new(
        projected
            .iter()
            .map(|&i| fields[i].clone())
            .collect::<Vec<_>>(),
    );
    Ok(Projection {
        leaves,
        time: time_leaf,
        hint: Arc::new(Schema::new(fields)),
        text_columns,
        schema: Arc::new(schema),
    })
}

/// Merged byte ranges of the wanted column chunks, checked against the object's bounds.
pub(super) fn chunk_ranges(
    metadata: &ParquetMetaData,
    leaves: &[usize],
    data_end: u64,
) -> Result<Vec<std::ops::Range<u64>>, String> {
    let mut ranges = Vec::new();
    for (rg_index, rg) in metadata.row_groups().iter().enumerate() {
        for &leaf in leaves {
            let (start, len) = rg.column(leaf).byte_range();
            if start < 4 || start.saturating_add(len) > data_end {
                return Err(format!(
                    "truncated or corrupt: row group {rg_index} column chunk {leaf} lies outside the file"
                ));
            }
            ranges.push(start..start + len);
        }
    }
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<std::ops::Range<u64>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            // Near and small enough to share a request; overlapping chunks (a corrupt footer)
            // become one range, however large.
            Some(last)
                if r.start < last.end
                    || (r.start <= last.end + MERGE_GAP
                        && r.end.max(last.end) - last.start <= MERGE_LIMIT) =>
            {
                last.end = last.end.max(r.end)
            }
            _ => merged.push(r),
        }
    }
    Ok(merged)
}
