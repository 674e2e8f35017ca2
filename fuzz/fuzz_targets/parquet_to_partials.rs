//! Arbitrary bytes as a Parquet object of each report type: footer checks, projected read, decode,
//! aggregation. Errors are expected; a panic, abort, OOM, hang, or an error that is not a permanent
//! bad-input error naming the key (production would retry it forever) is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocp_summary::ingest::IngestSettings;
use ocp_summary::ingest::local::aggregate_as_each_report;

fuzz_target!(
    // libfuzzer-sys aborts on every panic, even one caught: the reader catches the Parquet
    // decoder's panics on corrupt input and rejects the file, as production does. The default hook
    // is put back; a panic that escapes still aborts (libfuzzer-sys's wrapper) and is a crash.
    init: drop(std::panic::take_hook()),
    |bytes: &[u8]| {
        let settings = IngestSettings::from_env().expect("settings");
        for outcome in aggregate_as_each_report(bytes, &settings).expect("local temp file") {
            if let Err(e) = outcome.result {
                assert!(
                    e.is_permanent() && e.to_string().contains(&outcome.key),
                    "{e:?}"
                );
            }
        }
    }
);
