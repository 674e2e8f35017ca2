//! How the decoder hands chunks to the writer: days that are complete are handed over so they are
//! written while decoding goes on — a day no later row group holds (by the footer's statistics)
//! once the next day starts in time-ordered rows, or its row group ends; rows out of time order
//! stop that guessing, and whatever a guess got wrong adds up; nothing is handed over twice.

use integration_tests::koku_parquet::{PodHour, WriteOptions, day, pod_usage};
use ocp_summary::aggregate::PartialChunk;
use ocp_summary::ingest::MemoryBudget;
use ocp_summary::ingest::decode::{ChunkWriter, aggregate_file};
use ocp_summary::koku::report::ReportType;
use ocp_summary::read::object_source::LocalObject;
use ocp_summary::read::projected_file::ProjectedFile;
use ocp_summary::time::month_window_ms;

/// Per table of a chunk: the table and, per group, (day, first value column).
type RecordedChunk = Vec<(&'static str, Vec<(i64, f64)>)>;

/// Keeps what it is handed.
#[derive(Default)]
struct Recorder {
    chunks: Vec<RecordedChunk>,
}

impl ChunkWriter for Recorder {
    fn in_flight(&self) -> usize {
        0
    }

    fn settle(&mut self) -> bool {
        true
    }

    fn send(&mut self, chunk: PartialChunk) -> bool {
        let tables = chunk
            .tables
            .iter()
            .map(|t| {
                let per_day = match t.spec.grain {
                    ocp_summary::koku::report::Grain::Day => 1,
                    ocp_summary::koku::report::Grain::Hour => 24,
                };
                let groups = t
                    .keys
                    .iter()
                    .enumerate()
                    .map(|(g, key)| ((key[0] as i64).div_euclid(per_day), t.values[0][g]))
                    .collect();
                (t.spec.table, groups)
            })
            .collect();
        self.chunks.push(tables);
        true
    }

    fn begin_attempt(&mut self, _passes: u32) -> bool {
        self.chunks.clear();
        true
    }

    fn abandon_attempt(&mut self) -> bool {
        true
    }
}

/// Two days of one pod (0.5 core used each hour), hour by hour, in row groups of `row_group_rows`.
async fn chunks_of_two_days(row_group_rows: usize) -> Vec<RecordedChunk> {
    let (d1, d2) = two_days();
    let mut rows = d1;
    rows.extend(d2);
    chunks_of(rows, row_group_rows).await
}

fn two_days() -> (Vec<PodHour>, Vec<PodHour>) {
    let (d1, d2) = (day(2025, 11, 1), day(2025, 11, 2));
    let pod = |d| PodHour::new(d, "app", "n1", "p1", (0.5, 1.0), (1.0, 2.0), (4.0, 16.0));
    (
        pod(d1.and_hms_opt(0, 0, 0).unwrap()).day_long(d1),
        pod(d2.and_hms_opt(0, 0, 0).unwrap()).day_long(d2),
    )
}

/// The chunks the decoder hands over for `rows` in row groups of `row_group_rows`, in batches of 8.
async fn chunks_of(rows: Vec<PodHour>, row_group_rows: usize) -> Vec<RecordedChunk> {
    let options = WriteOptions {
        row_group_rows,
        ..WriteOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pod_usage.parquet");
    std::fs::write(&path, pod_usage(&rows, &options)).unwrap();
    let key = "data/parquet/org1/OCP/pod_usage/source=5235154c-2132-56b5-8b3d-2a3a00f342f5/year=2025/month=11/pod_usage.2025-11-01.1.0_0.parquet";
    let source = LocalObject::open(&path, key).unwrap();
    let spec = ReportType::PodUsage.spec();
    let budget = MemoryBudget::with_ceiling_mib(128)
        .unwrap()
        .with_max_batch_rows(8);
    let columns = spec.input_columns();
    let (file, fetch) = ProjectedFile::open(&source, &columns, dir.path(), budget.max_footer())
        .await
        .unwrap();
    fetch.await.unwrap();
    let mut recorder = Recorder::default();
    aggregate_file(
        &file,
        spec,
        month_window_ms(2025, 11),
        &budget,
        &mut recorder,
    )
    .unwrap();
    recorder.chunks
}

const NOV_1: i64 = 20393; // days since 1970-01-01
const CORE_SECONDS_PER_DAY: f64 = 24.0 * 0.5 * 3600.0;

#[tokio::test]
async fn a_day_is_handed_over_once_no_later_row_group_holds_it() {
    // Row groups of 12 rows: two per day. After the 2nd, later row groups start on Nov 2, so
    // Nov 1 is complete; after the 1st and 3rd nothing is (the next row group is the same day).
    let chunks = chunks_of_two_days(12).await;
    assert_eq!(chunks.len(), 2, "Nov 1 after its row groups, then Nov 2");
    for (chunk, day) in chunks.iter().zip([NOV_1, NOV_1 + 1]) {
        let (table, pods) = &chunk[0];
        assert_eq!(*table, "ocp_pod_usage_partial");
        // One group per pod and day, all 24 hours in it: no day split across chunks.
        assert_eq!(pods, &vec![(day, CORE_SECONDS_PER_DAY)]);
        let (table, hours) = &chunk[1];
        assert_eq!(*table, "ocp_node_capacity_partial");
        assert_eq!(hours.len(), 24);
        assert!(hours.iter().all(|(d, _)| *d == day));
        // Capacity: the max over the node's pods in the hour, 4 cores for 3600 s.
        assert!(hours.iter().all(|(_, v)| *v == 4.0 * 3600.0));
    }
}

#[tokio::test]
async fn in_one_time_ordered_row_group_a_day_goes_when_the_next_begins() {
    // Batches of 8 rows: the 4th batch holds Nov 1 20:00-23:00 and Nov 2 00:00-03:00, so Nov 1
    // is handed over after it, whole, while Nov 2 is still being read.
    let chunks = chunks_of_two_days(1 << 20).await;
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0][0].1, vec![(NOV_1, CORE_SECONDS_PER_DAY)]);
    assert_eq!(
        chunks[0][1].1.len(),
        24,
        "Nov 1's capacity hours go with it"
    );
    assert_eq!(chunks[1][0].1, vec![(NOV_1 + 1, CORE_SECONDS_PER_DAY)]);
    assert_eq!(chunks[1][1].1.len(), 24);
}

#[tokio::test]
async fn rows_out_of_time_order_stop_the_guessing_and_still_add_up() {
    // One row group: Nov 1 00:00-11:00, then Nov 2 00:00-11:00 (so Nov 1 looks complete and its
    // first half is handed over), then Nov 1 12:00-23:00 (out of order: no more hand-overs), then
    // Nov 2 12:00-23:00. Nov 1's second half becomes a second partial row of the same day; the
    // two add up to the day's 24 hours, and Nov 2 stays one row.
    let (d1, d2) = two_days();
    let rows: Vec<PodHour> = [&d1[..12], &d2[..12], &d1[12..], &d2[12..]].concat();
    let chunks = chunks_of(rows, 1 << 20).await;
    assert_eq!(chunks.len(), 2, "one guess, then the rest at the end");
    let half = CORE_SECONDS_PER_DAY / 2.0;
    assert_eq!(chunks[0][0].1, vec![(NOV_1, half)]);
    let mut rest = chunks[1][0].1.clone();
    rest.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(rest, vec![(NOV_1, half), (NOV_1 + 1, CORE_SECONDS_PER_DAY)]);
    let capacity_hours: usize = chunks.iter().map(|c| c[1].1.len()).sum();
    assert_eq!(capacity_hours, 48, "every hour once: 12 + 36");
}

#[tokio::test]
async fn groups_left_behind_by_a_handover_keep_accumulating() {
    // Row groups of 36 rows: Nov 1 and half of Nov 2, then the rest of Nov 2. Nov 1 goes after the
    // first; Nov 2's group stays (re-indexed) and must take the second half into the same group.
    let chunks = chunks_of_two_days(36).await;
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0][0].1, vec![(NOV_1, CORE_SECONDS_PER_DAY)]);
    assert_eq!(chunks[1][0].1, vec![(NOV_1 + 1, CORE_SECONDS_PER_DAY)]);
    assert_eq!(chunks[1][1].1.len(), 24, "Nov 2's 24 capacity hours");
}
