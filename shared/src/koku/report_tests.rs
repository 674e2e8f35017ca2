//! Unit tests of the report specs (kept apart so `report.rs` stays readable).
use super::*;

#[test]
fn pod_report_projects_only_what_partials_need() {
    let cols = ReportType::PodUsage.spec().input_columns();
    let names: Vec<_> = cols.iter().map(|c| c.name).collect();
    assert!(names.contains(&"pod_labels"));
    assert!(
        !names.contains(&"report_period_start"),
        "not needed by any partial"
    );
    assert!(!names.contains(&"interval_end"));
    let optional: Vec<_> = cols
        .iter()
        .filter(|c| !c.required)
        .map(|c| c.name)
        .collect();
    assert_eq!(
        optional,
        [
            "node_role",
            "pod_effective_usage_cpu_core_seconds",
            "pod_effective_usage_memory_byte_seconds"
        ]
    );
    assert_eq!(names.len(), 19);
}

#[test]
fn storage_node_and_csi_columns_are_optional() {
    let cols = ReportType::StorageUsage.spec().input_columns();
    let csi = cols.iter().find(|c| c.name == "csi_volume_handle").unwrap();
    assert_eq!((csi.kind, csi.required), (ColumnKind::Text, false));
    assert!(
        !cols
            .iter()
            .any(|c| c.name == "csi_driver" || c.name == "node")
    );
}

#[test]
fn gpu_report_requires_the_operator_columns_and_leaves_mig_optional() {
    let cols = ReportType::GpuUsage.spec().input_columns();
    let names = |required: bool| -> Vec<&str> {
        cols.iter()
            .filter(|c| c.required == required)
            .map(|c| c.name)
            .collect()
    };
    assert_eq!(
        names(true),
        [
            "interval_start",
            "namespace",
            "node",
            "pod",
            "gpu_uuid",
            "gpu_vendor_name",
            "gpu_model_name",
            "gpu_pod_uptime",
            "gpu_memory_capacity_mib",
        ]
    );
    assert_eq!(
        names(false),
        [
            "mig_instance_id",
            "mig_profile",
            "mig_strategy",
            "mig_slice_count",
            "gpu_max_slices",
            "mig_memory_capacity_mib",
        ]
    );
    let kind = |n: &str| cols.iter().find(|c| c.name == n).map(|c| c.kind);
    assert_eq!(kind("mig_slice_count"), Some(ColumnKind::Number));
    assert_eq!(kind("mig_strategy"), Some(ColumnKind::Text));
    // Extra operator columns koku does not know are not read at all (gpu spec §10 G9).
    assert_eq!(kind("gpu_pod_utilization"), None);
    assert_eq!(kind("report_period_start"), None);
    assert!(ReportType::GpuUsage.spec().anomaly_columns.is_empty());
}

#[test]
fn every_hint_key_is_a_key() {
    for r in ReportType::ALL {
        for a in r.spec().aggregates {
            assert!(a.keys.iter().any(|k| k.name == a.hint_key), "{}", a.table);
        }
    }
}

#[test]
fn path_segments_round_trip() {
    for r in ReportType::ALL {
        assert_eq!(ReportType::from_path_segment(r.path_segment()), Some(r));
    }
}
