//! One CloudWatch Embedded Metric Format record per invocation: a JSON log line that CloudWatch turns
//! into metrics without an API call.

use serde_json::{Map, Value, json};

/// Peak resident set size of this process (VmHWM) in KiB, as the kernel counts it.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Builds an EMF record. `metrics` are (name, unit, value); `properties` are extra fields.
pub fn emf_record(
    namespace: &str,
    dimensions: &[(&str, &str)],
    metrics: &[(&str, &str, f64)],
    properties: &[(&str, Value)],
) -> Value {
    let mut record = Map::new();
    let timestamp = chrono::Utc::now().timestamp_millis();
    record.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [dimensions.iter().map(|(k, _)| *k).collect::<Vec<_>>()],
                "Metrics": metrics.iter().map(|(n, u, _)| json!({"Name": n, "Unit": u})).collect::<Vec<_>>(),
            }],
        }),
    );
    for (k, v) in dimensions {
        record.insert((*k).into(), json!(v));
    }
    for (n, _, v) in metrics {
        record.insert((*n).into(), json!(v));
    }
    for (k, v) in properties {
        record.insert((*k).into(), v.clone());
    }
    Value::Object(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_names_every_metric_and_dimension() {
        let r = emf_record(
            "OcpSummary",
            &[("Function", "ingest")],
            &[("RowsRead", "Count", 42.0)],
            &[("key", json!("k"))],
        );
        assert_eq!(r["RowsRead"], 42.0);
        assert_eq!(r["Function"], "ingest");
        assert_eq!(
            r["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "RowsRead"
        );
        assert_eq!(
            r["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0],
            "Function"
        );
    }

    #[test]
    fn reads_own_peak_rss() {
        assert!(peak_rss_kib().unwrap() > 0);
    }
}
