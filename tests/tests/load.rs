//! Concurrency at the template's reserved concurrency: 20 ingest environments (each with its own
//! connection) take 20 files of the same day at once while roll-ups run against the same day.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use integration_tests::harness::{TestEnv, assert_fleet_totals, count, pod_totals, raw_key};
use integration_tests::koku_parquet::{WriteOptions, day, fleet, pod_usage};
use lambda_runtime::LambdaEvent;

const FILES: u32 = 20;
const PODS_PER_FILE: usize = 30;

#[tokio::test(flavor = "multi_thread")]
async fn twenty_concurrent_ingests_and_roll_ups_of_one_day_end_exact() {
    let env = TestEnv::new("load").await;
    let d = day(2025, 11, 9);
    let mut work = Vec::new();
    for file in 0..FILES {
        let body = pod_usage(
            &fleet(d, PODS_PER_FILE, &format!("f{file}")),
            &WriteOptions::default(),
        );
        let event = env.put_event(&raw_key("pod_usage", d, file), body).await;
        work.push((Arc::new(env.another_ingest().await), event));
    }

    let started = Instant::now();
    let ingests_done = AtomicBool::new(false);
    let ingests = async {
        let mut set = tokio::task::JoinSet::new();
        for (deps, event) in work {
            set.spawn(async move {
                ingest::handle(&deps, LambdaEvent::new(event, Default::default()))
                    .await
                    .map_err(|e| e.0.to_string())
            });
        }
        let outcomes = set.join_all().await;
        ingests_done.store(true, Ordering::SeqCst);
        outcomes
    };
    // Roll-ups while the ingests run, each taking the marks set so far; paced so that an idle run
    // does not spin on a core the ingests need.
    let roll_ups = async {
        let mut runs = 0;
        while !ingests_done.load(Ordering::SeqCst) {
            env.roll_up().await;
            runs += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        runs
    };
    let (outcomes, runs) = tokio::time::timeout(Duration::from_secs(60), async {
        tokio::join!(ingests, roll_ups)
    })
    .await
    .expect("ingests and roll-ups still running after 60 s: a deadlock or a stall");
    eprintln!(
        "{FILES} ingests and {runs} concurrent roll-ups in {:?}",
        started.elapsed()
    );
    for outcome in outcomes {
        let records = outcome.expect("no ingest may fail");
        assert_eq!(records[0].outcome, "ingested", "{:?}", records[0].detail);
    }

    // The last scheduled roll-up takes whatever concurrent runs left marked.
    env.roll_up().await;
    let admin = env.sql().await;
    assert_eq!(count(&admin, "ocp_dirty_day").await, 0);
    // 20 files × 30 pods, each its own row: 600 rows, 600 × 0.25 × 24 = 3600 core-hours used.
    assert_fleet_totals(pod_totals(&admin, d).await, FILES as usize * PODS_PER_FILE);
}
