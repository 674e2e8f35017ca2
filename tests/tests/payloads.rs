//! koku's day replacement (spec §1, §2.3 "Day replacement"): of the payloads of one (source, report
//! type, day) only the most complete one counts (ties: the higher manifest id), every file of it, and
//! that from the moment it is ingested, before koku deletes the superseded objects. Objects carry
//! koku's S3 user metadata on a real S3-compatible server; every expected figure is worked out by
//! hand in the comments beside it.
//!
//! Each pod below runs on node-1 and uses `c` cores (requesting 2c) in each hour of its file, so its
//! CPU usage is c × hours core-hours.

use std::collections::BTreeMap;

use integration_tests::harness::{SOURCE, TestEnv, assert_close, raw_key};
use integration_tests::koku_parquet::{PodHour, WriteOptions, day, pod_usage};

/// Day D of the payloads.
fn d() -> chrono::NaiveDate {
    day(2025, 11, 5)
}

/// koku's raw key of file `counter` of `manifest`'s payload for day D.
fn payload_key(manifest: u32, counter: u32) -> String {
    format!(
        "data/parquet/org1234567/OCP/pod_usage/source={SOURCE}/year=2025/month=11/\
         pod_usage.2025-11-05.{manifest}.{counter}_0.parquet"
    )
}

/// A pod_usage file: each `(namespace, pod, cores)` for the first `hours` hours of D.
fn file(pods: &[(&str, &str, f64)], hours: u32) -> Vec<u8> {
    let rows: Vec<PodHour> = (0..hours)
        .flat_map(|h| {
            pods.iter().map(move |(ns, pod, cores)| {
                PodHour::new(
                    d().and_hms_opt(h, 0, 0).unwrap(),
                    ns,
                    "node-1",
                    pod,
                    (*cores, 2.0 * cores),
                    (1.0, 2.0),
                    (16.0, 64.0),
                )
            })
        })
        .collect();
    pod_usage(&rows, &WriteOptions::default())
}

/// One object of a payload: its key, content, and koku's metadata (`None`: the manifest id is left
/// to the file name).
struct Part {
    key: String,
    body: Vec<u8>,
    manifest_in_metadata: bool,
    hours: u32,
}

impl Part {
    fn new(manifest: u32, counter: u32, hours: u32, pods: &[(&str, &str, f64)]) -> Part {
        Part {
            key: payload_key(manifest, counter),
            body: file(pods, hours),
            manifest_in_metadata: true,
            hours,
        }
    }

    fn manifest_from_key(mut self) -> Part {
        self.manifest_in_metadata = false;
        self
    }
}

/// Payload 1: manifest 11, 6 hours of D, two files: pod a at 1 core → 6; pod b at 2 cores → 12.
fn payload_1() -> Vec<Part> {
    vec![
        Part::new(11, 0, 6, &[("ns-a", "a", 1.0)]),
        Part::new(11, 1, 6, &[("ns-b", "b", 2.0)]),
    ]
}

/// Payload 2: manifest 12, 12 hours of D, one file: pod a at 3 cores → 36; pod b at 5 → 60.
fn payload_2() -> Vec<Part> {
    vec![Part::new(
        12,
        0,
        12,
        &[("ns-a", "a", 3.0), ("ns-b", "b", 5.0)],
    )]
}

async fn ingest(env: &TestEnv, parts: &[Part]) {
    ingest_expecting(env, parts, None).await;
}

/// Ingests `parts`; with `status`, checks the payload status each record reports.
async fn ingest_expecting(env: &TestEnv, parts: &[Part], status: Option<&str>) {
    for part in parts {
        let manifest = part
            .key
            .rsplit('/')
            .next()
            .and_then(|f| f.split('.').nth(2))
            .unwrap()
            .to_owned();
        let hours = part.hours.to_string();
        let mut metadata = vec![
            ("reportdatestart", "2025-11-05"),
            ("reportnumhours", hours.as_str()),
        ];
        if part.manifest_in_metadata {
            metadata.push(("manifestid", manifest.as_str()));
        }
        let event = env
            .put_event_with_metadata(&part.key, part.body.clone(), &metadata)
            .await;
        let out = env.ingest(event).await;
        assert_eq!(
            out[0].outcome, "ingested",
            "{}: {:?}",
            part.key, out[0].detail
        );
        if let Some(status) = status {
            assert_eq!(out[0].detail.as_deref(), Some(status), "{}", part.key);
        }
    }
}

async fn remove(env: &TestEnv, parts: &[Part]) {
    for part in parts {
        let out = env.ingest(env.delete_event(&part.key).await).await;
        assert_eq!(out[0].outcome, "removed", "{}", part.key);
    }
}

/// CPU usage core-hours of D's Pod rows per namespace (the real namespaces only).
async fn usage(env: &TestEnv) -> BTreeMap<String, f64> {
    env.sql()
        .await
        .query(
            "SELECT namespace, sum(pod_usage_cpu_core_hours)::float8
             FROM reporting_ocpusagelineitem_daily_summary
             WHERE data_source = 'Pod' AND usage_start = $1 AND namespace LIKE 'ns-%'
             GROUP BY namespace",
            &[&d()],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[track_caller]
fn assert_usage(actual: &BTreeMap<String, f64>, expected: &[(&str, f64)], what: &str) {
    let names: Vec<&str> = actual.keys().map(String::as_str).collect();
    let expected_names: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, expected_names, "{what}: namespaces {actual:?}");
    for (ns, value) in expected {
        assert_close(actual[*ns], *value, &format!("{what}: {ns}"));
    }
}

/// What the operator sees per present object: key → payload status.
async fn statuses(env: &TestEnv) -> BTreeMap<String, String> {
    env.sql()
        .await
        .query(
            "SELECT object_key, payload_status FROM ocp_object_payload",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn keys_with(parts: &[Part], status: &str) -> Vec<(String, String)> {
    parts
        .iter()
        .map(|p| (p.key.clone(), status.to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_most_complete_payload_wins_before_the_old_one_is_deleted() {
    let env = TestEnv::new("payload_wins").await;
    ingest(&env, &payload_1()).await;
    env.roll_up().await;
    // Payload 1 alone: its two files add up (a 1 × 6 = 6, b 2 × 6 = 12).
    assert_usage(
        &usage(&env).await,
        &[("ns-a", 6.0), ("ns-b", 12.0)],
        "payload 1",
    );

    ingest(&env, &payload_2()).await;
    env.roll_up().await;
    // Payload 2 alone (a 3 × 12 = 36, b 5 × 12 = 60), not 42 and 72 as both would give.
    let expected = [("ns-a", 36.0), ("ns-b", 60.0)];
    assert_usage(&usage(&env).await, &expected, "both present");
    let mut seen: Vec<(String, String)> = statuses(&env).await.into_iter().collect();
    let mut want = keys_with(&payload_1(), "superseded by manifest 12");
    want.extend(keys_with(&payload_2(), "counted"));
    seen.sort();
    want.sort();
    assert_eq!(seen, want);

    // koku's deletions of payload 1 arrive: nothing changes.
    remove(&env, &payload_1()).await;
    env.roll_up().await;
    assert_usage(&usage(&env).await, &expected, "after the removals");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_less_complete_payload_is_recorded_and_superseded() {
    let env = TestEnv::new("payload_late").await;
    ingest_expecting(&env, &payload_2(), Some("counted")).await;
    env.roll_up().await;
    let expected = [("ns-a", 36.0), ("ns-b", 60.0)];
    assert_usage(&usage(&env).await, &expected, "payload 2");

    // Payload 1's creates arrive late: recorded (its partials are stored) but superseded, as the
    // records say.
    ingest_expecting(&env, &payload_1(), Some("superseded by manifest 12")).await;
    let status = statuses(&env).await;
    for part in payload_1() {
        assert_eq!(status[&part.key], "superseded by manifest 12");
    }
    let recorded: i64 = env
        .sql()
        .await
        .query_one(
            "SELECT count(*) FROM ocp_ingested_object
             WHERE manifest_id = '11' AND payload_hours = 6 AND payload_day = $1
               AND state = 'present' AND partial_rows > 0",
            &[&d()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(recorded, 2);
    env.roll_up().await;
    assert_usage(&usage(&env).await, &expected, "after the late payload 1");
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_the_kept_payload_brings_back_the_best_remaining() {
    let env = TestEnv::new("payload_removed").await;
    // Payload 0: manifest 10, 3 hours, pod a at 7 cores → 21.
    let payload_0 = vec![Part::new(10, 0, 3, &[("ns-a", "a", 7.0)])];
    ingest(&env, &payload_0).await;
    ingest(&env, &payload_1()).await;
    ingest(&env, &payload_2()).await;
    env.roll_up().await;
    assert_usage(
        &usage(&env).await,
        &[("ns-a", 36.0), ("ns-b", 60.0)],
        "payload 2 kept",
    );

    // Payload 2 removed: payload 1 (6 hours) beats payload 0 (3 hours): a 6, b 12.
    remove(&env, &payload_2()).await;
    env.roll_up().await;
    assert_usage(
        &usage(&env).await,
        &[("ns-a", 6.0), ("ns-b", 12.0)],
        "payload 1 after payload 2's removal",
    );
    let status = statuses(&env).await;
    for part in payload_1() {
        assert_eq!(status[&part.key], "counted");
    }
    assert_eq!(status[&payload_0[0].key], "superseded by manifest 11");

    // And payload 1 removed too: payload 0 alone, a 7 × 3 = 21.
    remove(&env, &payload_1()).await;
    env.roll_up().await;
    assert_usage(&usage(&env).await, &[("ns-a", 21.0)], "payload 0 last");
}

#[tokio::test(flavor = "multi_thread")]
async fn equal_hours_go_to_the_higher_manifest_id() {
    let env = TestEnv::new("payload_tie").await;
    // Both 12 hours, manifest ids only in the file names. Manifest 10: pod a at 3 cores → 36.
    // Manifest 9: pod a at 4 → 48, pod b at 1 → 12. 10 > 9 as numbers (as text "9" > "10").
    let ten = vec![Part::new(10, 0, 12, &[("ns-a", "a", 3.0)]).manifest_from_key()];
    let nine =
        vec![Part::new(9, 0, 12, &[("ns-a", "a", 4.0), ("ns-b", "b", 1.0)]).manifest_from_key()];
    ingest(&env, &ten).await;
    ingest(&env, &nine).await;
    env.roll_up().await;
    assert_usage(&usage(&env).await, &[("ns-a", 36.0)], "manifest 10");
    let status = statuses(&env).await;
    assert_eq!(status[&ten[0].key], "counted");
    assert_eq!(status[&nine[0].key], "superseded by manifest 10");
}

#[tokio::test(flavor = "multi_thread")]
async fn files_without_metadata_still_add_up() {
    let env = TestEnv::new("payload_untagged").await;
    // Two untagged files of D: pod a at 1 core for 6 hours → 6; pod b at 5 cores for 12 → 60.
    for (chunk, body) in [
        (0, file(&[("ns-a", "a", 1.0)], 6)),
        (1, file(&[("ns-b", "b", 5.0)], 12)),
    ] {
        let event = env.put_event(&raw_key("pod_usage", d(), chunk), body).await;
        assert_eq!(env.ingest(event).await[0].outcome, "ingested");
    }
    env.roll_up().await;
    assert_usage(
        &usage(&env).await,
        &[("ns-a", 6.0), ("ns-b", 60.0)],
        "untagged files",
    );
    assert!(
        statuses(&env).await.values().all(|s| s == "counted"),
        "untagged objects count"
    );

    // Tagged payloads 1 and 2 join: payload 2 counts with the untagged files (a 6 + 36 = 42,
    // b 60 + 60 = 120), payload 1 does not.
    ingest(&env, &payload_1()).await;
    ingest(&env, &payload_2()).await;
    env.roll_up().await;
    assert_usage(
        &usage(&env).await,
        &[("ns-a", 42.0), ("ns-b", 120.0)],
        "untagged files and payload 2",
    );
}
