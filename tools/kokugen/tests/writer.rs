//! The in-memory writer of hand-made rows and each `WriteOptions` variant, read back with the
//! parquet crate.

use arrow_schema::{DataType, TimeUnit};
use bytes::Bytes;
use chrono::NaiveDate;
use kokugen::{
    Entity, PodHour, StorageHour, WriteOptions, encode_labels, encode_pod_usage,
    encode_storage_usage, fleet, label_day,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};

fn nov1() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, 1).unwrap()
}

fn schema(body: &[u8]) -> arrow_schema::SchemaRef {
    ParquetRecordBatchReaderBuilder::try_new(Bytes::copy_from_slice(body))
        .unwrap()
        .schema()
        .clone()
}

fn row_groups(body: &[u8]) -> Vec<i64> {
    let reader = SerializedFileReader::new(Bytes::copy_from_slice(body)).unwrap();
    reader
        .metadata()
        .row_groups()
        .iter()
        .map(|rg| rg.num_rows())
        .collect()
}

#[test]
fn default_is_koku_types_and_one_row_group() {
    // 3 pods x 24 hours
    let body = encode_pod_usage(&fleet(nov1(), 3, "p"), &WriteOptions::default()).unwrap();
    assert_eq!(row_groups(&body), vec![72]);
    let s = schema(&body);
    assert_eq!(
        s.field_with_name("interval_start").unwrap().data_type(),
        &DataType::Timestamp(TimeUnit::Millisecond, None)
    );
    assert_eq!(
        s.field_with_name("pod_usage_cpu_core_seconds")
            .unwrap()
            .data_type(),
        &DataType::Float64
    );
    assert_eq!(
        s.field_with_name("pod_labels").unwrap().data_type(),
        &DataType::Utf8
    );
    // no row has a node_role: an older operator's file has no such column
    assert!(s.field_with_name("node_role").is_err());
    assert_eq!(s.fields().len(), 21);
    let mut with_role = fleet(nov1(), 1, "p");
    with_role[0].node_role = Some("worker".into());
    let s = schema(&encode_pod_usage(&with_role, &WriteOptions::default()).unwrap());
    assert_eq!(
        s.field_with_name("node_role").unwrap().data_type(),
        &DataType::Utf8
    );
}

#[test]
fn variants_change_what_they_say() {
    let rows = fleet(nov1(), 2, "p"); // 48 rows
    let write = |o: WriteOptions| encode_pod_usage(&rows, &o).unwrap();
    let s = schema(&write(WriteOptions {
        int_numbers: true,
        ..WriteOptions::default()
    }));
    assert_eq!(
        s.field_with_name("pod_request_cpu_core_seconds")
            .unwrap()
            .data_type(),
        &DataType::Int64
    );
    let s = schema(&write(WriteOptions {
        time_unit: TimeUnit::Microsecond,
        ..WriteOptions::default()
    }));
    assert_eq!(
        s.field_with_name("interval_end").unwrap().data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, None)
    );
    let s = schema(&write(WriteOptions {
        extra_column: true,
        ..WriteOptions::default()
    }));
    assert_eq!(s.fields().last().unwrap().name(), "operator_extra");
    let s = schema(&write(WriteOptions {
        drop_columns: vec!["pod_labels"],
        ..WriteOptions::default()
    }));
    assert!(s.field_with_name("pod_labels").is_err());
    let s = schema(&write(WriteOptions {
        as_text: vec!["pod_request_cpu_core_seconds"],
        ..WriteOptions::default()
    }));
    assert_eq!(
        s.field_with_name("pod_request_cpu_core_seconds")
            .unwrap()
            .data_type(),
        &DataType::Utf8
    );
    assert_eq!(
        row_groups(&write(WriteOptions {
            row_group_rows: 5,
            ..WriteOptions::default()
        }))
        .len(),
        10
    );
}

#[test]
fn spilling_pages_writes_the_same_bytes() {
    let rows = fleet(nov1(), 500, "p");
    let dir = tempfile::tempdir().unwrap();
    let spilled = encode_pod_usage(
        &rows,
        &WriteOptions {
            spill_dir: Some(dir.path().into()),
            ..WriteOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        spilled,
        encode_pod_usage(&rows, &WriteOptions::default()).unwrap()
    );
}

#[test]
fn storage_and_label_files() {
    let at = nov1().and_hms_opt(0, 0, 0).unwrap();
    let storage = StorageHour::new(at, "ns", "pod", "claim", (10.0, 10.0, 2.5)).day_long(nov1());
    let body = encode_storage_usage(&storage, &WriteOptions::default()).unwrap();
    assert_eq!(row_groups(&body), vec![24]);
    assert_eq!(schema(&body).fields().len(), 15); // no node or CSI columns
    let labels = label_day(nov1(), "n1", r#"{"zone": "a"}"#);
    let s = schema(&encode_labels(Entity::Node, &labels, &WriteOptions::default()).unwrap());
    assert!(s.field_with_name("node_labels").is_ok() && s.field_with_name("node").is_ok());
    let s = schema(&encode_labels(Entity::Namespace, &labels, &WriteOptions::default()).unwrap());
    assert!(s.field_with_name("namespace_labels").is_ok());
    let empty: &[PodHour] = &[];
    assert!(row_groups(&encode_pod_usage(empty, &WriteOptions::default()).unwrap()).is_empty());
}
