//! The spec's §6 worked example as koku stores it (pyarrow-written Parquet, koku's S3 events): every
//! column of the rows koku's own on-prem SQL writes (`expected.csv`) must come out of ingest + roll-up.

use std::path::{Path, PathBuf};

use integration_tests::harness::{TestEnv, assert_close};
use serde_json::Value;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/koku-worked-example")
}

/// Uploads every fixture object and replays koku's own events against the test bucket.
async fn ingest_fixture(env: &TestEnv) {
    let dir = fixture_dir();
    let mut events: Vec<PathBuf> = std::fs::read_dir(dir.join("events"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    events.sort();
    for path in events {
        let mut event: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let record = &mut event["Records"][0]["s3"];
        let key =
            ocp_summary::koku::layout::decode_event_key(record["object"]["key"].as_str().unwrap())
                .into_owned();
        env.put(&key, std::fs::read(dir.join("s3").join(&key)).unwrap())
            .await;
        record["bucket"]["name"] = Value::from(env.bucket.clone());
        let outcomes = env.ingest(serde_json::from_value(event).unwrap()).await;
        assert_eq!(
            outcomes[0].outcome, "ingested",
            "{key}: {:?}",
            outcomes[0].detail
        );
    }
}

const NUMERIC_FROM: usize = 12; // first numeric column of expected.csv

#[tokio::test(flavor = "multi_thread")]
async fn worked_example_matches_koku_rows_in_every_column() {
    let env = TestEnv::new("worked_example").await;
    ingest_fixture(&env).await;
    let result = env.roll_up().await;
    assert_eq!(result["days"], 1);

    let csv = std::fs::read_to_string(fixture_dir().join("expected.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let expected: Vec<Vec<String>> = lines.map(split_csv).collect();

    let select = header
        .iter()
        .map(|c| format!("{c}::text"))
        .collect::<Vec<_>>()
        .join(", ");
    let client = env.sql().await;
    let rows = client
        .query(
            &format!(
                "SELECT {select} FROM reporting_ocpusagelineitem_daily_summary \
                 ORDER BY data_source, namespace, persistentvolumeclaim NULLS FIRST"
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), expected.len(), "row count");
    for (row, expected_row) in rows.iter().zip(&expected) {
        for (i, column) in header.iter().enumerate() {
            let got: Option<String> = row.get(i);
            let want = &expected_row[i];
            let context = format!("{} {} {column}", expected_row[0], expected_row[2]);
            match (got.as_deref(), want.as_str()) {
                (None, "\\N") => {}
                (None, w) => panic!("{context}: got NULL, expected {w}"),
                (Some(g), "\\N") => panic!("{context}: got {g}, expected NULL"),
                (Some(g), w) if i >= NUMERIC_FROM => {
                    assert_close(g.parse().unwrap(), w.parse().unwrap(), &context)
                }
                (Some(g), w) if w.starts_with('{') => {
                    let g: Value = serde_json::from_str(g).unwrap();
                    let w: Value = serde_json::from_str(w).unwrap();
                    assert_eq!(g, w, "{context}");
                }
                (Some(g), w) => assert_eq!(g, w, "{context}"),
            }
        }
    }

    // The columns expected.csv leaves out: koku's other constants (spec §4.5, §4.8).
    let fixed = client
        .query_one(
            "SELECT count(*) FILTER (WHERE infrastructure_usage_cost = \
                 '{\"cpu\": 0, \"memory\": 0, \"storage\": 0}'::jsonb), \
                    count(*) FILTER (WHERE infrastructure_usage_cost IS NULL), \
                    count(DISTINCT report_period_id), count(*) FILTER (WHERE usage_end = usage_start), \
                    count(*) FILTER (WHERE source_uuid = '5235154c-2132-56b5-8b3d-2a3a00f342f5'), \
                    count(*) FILTER (WHERE infrastructure_raw_cost IS NULL) \
             FROM reporting_ocpusagelineitem_daily_summary",
            &[],
        )
        .await
        .unwrap();
    let counts: Vec<i64> = (0..6).map(|i| fixed.get(i)).collect();
    assert_eq!(
        counts,
        [2, 1, 1, 3, 3, 3],
        "pod/storage zero cost JSON, unallocated NULL, one period"
    );
}

/// expected.csv has JSON with commas inside braces; split outside them.
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in line.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                fields.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    fields.push(current);
    fields
}
