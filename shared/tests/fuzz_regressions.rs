//! Every input kept under `fuzz/regressions/` (crashes the fuzzers found, and tricky seeds) through
//! the functions the fuzz targets call, so a fixed crash stays fixed without nightly or cargo-fuzz.

use std::path::PathBuf;

use ocp_summary::ingest::local::aggregate_as_each_report;
use ocp_summary::ingest::{IngestSettings, Overhead};
use ocp_summary::koku::labels;

/// (file name, contents) of each input of a target under `fuzz/<kind>/`, sorted by name.
fn inputs(kind: &str, target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz")
        .join(kind)
        .join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

#[test]
fn parquet_regressions_are_aggregated_or_rejected_as_bad_input_naming_the_key() {
    let files = inputs("regressions", "parquet_to_partials");
    assert!(files.len() >= 10, "only {} inputs found", files.len());
    // The valid seeds must give partials, or every input could be failing for one trivial reason.
    let aggregated = aggregated_or_rejected(&files);
    assert!(
        aggregated >= 2,
        "only {aggregated} (input, report) pairs gave partials"
    );
}

/// Asserts each input as each report type gives partials or a permanent error naming the key;
/// returns how many (input, report) pairs gave partials.
fn aggregated_or_rejected(files: &[(String, Vec<u8>)]) -> usize {
    // The aggregation's result, not the process's memory: decoder panics on some inputs leave the
    // test process holding more than one ingest would (the memory tests use the release binary).
    let mut settings = IngestSettings::from_env().unwrap();
    settings.budget = settings.budget.with_overhead(Overhead::Fixed(32 << 20));
    let mut aggregated = 0;
    for (name, bytes) in files {
        for outcome in aggregate_as_each_report(bytes, &settings).unwrap() {
            let report = outcome.report_type;
            match outcome.result {
                Ok(summary) if summary.groups > 0 => aggregated += 1,
                Ok(_) => {}
                Err(e) => {
                    // A transient error would make production retry a bad file forever.
                    assert!(e.is_permanent(), "{name} as {report:?}: {e:?}");
                    assert!(
                        e.to_string().contains(&outcome.key),
                        "{name} as {report:?}: the error does not name the key: {e}"
                    );
                }
            }
        }
    }
    aggregated
}

#[test]
fn label_regressions_are_accepted_or_refused_as_their_names_say() {
    let files = inputs("regressions", "label_parser");
    assert!(files.len() >= 8, "only {} inputs found", files.len());
    for (name, bytes) in &files {
        let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let result = labels::validate(text);
        match name.split_once('-').map(|(verdict, _)| verdict) {
            Some("accept") => assert!(result.is_ok(), "{name}: {result:?}"),
            Some("reject") => assert!(result.is_err(), "{name} was accepted"),
            _ => panic!("{name}: name it accept-… or reject-…"),
        }
    }
}
