//! A schema migrated by an earlier release keeps its data through the later migrations.

use integration_tests::harness::{db_config, sql, unique_name};
use ocp_summary::store::Database;

const FIRST_RELEASE: [(i32, &str, &str); 2] = [
    (
        1,
        "partials",
        include_str!("../../shared/sql/migrations/0001_partials.sql"),
    ),
    (
        2,
        "koku_reporting",
        include_str!("../../shared/sql/migrations/0002_koku_reporting.sql"),
    ),
];

#[tokio::test]
async fn partials_written_before_label_sets_keep_their_label_maps() {
    let schema = unique_name("migrate_label_sets");
    let client = sql(&schema).await;
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE ocp_schema_migration (
                 version int PRIMARY KEY, name text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now())"
        ))
        .await
        .unwrap();
    for (version, name, sql) in FIRST_RELEASE {
        client.batch_execute(sql).await.unwrap();
        client
            .execute(
                "INSERT INTO ocp_schema_migration (version, name) VALUES ($1, $2)",
                &[&version, &name],
            )
            .await
            .unwrap();
    }
    // Partials as the first release wrote them: label maps inline, in two objects.
    client
        .batch_execute(
            r#"INSERT INTO ocp_pod_usage_partial (object_id, source_uuid, usage_start, pod, pod_labels)
               VALUES (7, '5235154c-2132-56b5-8b3d-2a3a00f342f5', '2025-11-01', 'p1', '{"app": "a"}'),
                      (7, '5235154c-2132-56b5-8b3d-2a3a00f342f5', '2025-11-02', 'p2', '{"app": "a"}'),
                      (7, '5235154c-2132-56b5-8b3d-2a3a00f342f5', '2025-11-01', 'p3', '{"app": "b"}'),
                      (8, '5235154c-2132-56b5-8b3d-2a3a00f342f5', '2025-11-01', 'p4', '{"app": "a"}'),
                      (8, '5235154c-2132-56b5-8b3d-2a3a00f342f5', '2025-11-01', 'p5', NULL);
               INSERT INTO ocp_node_labels_partial (object_id, source_uuid, usage_start, node, node_labels)
               VALUES (9, '5235154c-2132-56b5-8b3d-2a3a00f342f5', '2025-11-01', 'n1', '{"zone": "z"}');
               INSERT INTO ocp_node_capacity_partial (object_id, source_uuid, usage_start, interval_start,
                                                      node, node_capacity_cpu_core_seconds,
                                                      node_capacity_memory_byte_seconds)
               VALUES (7, '5235154c-2132-56b5-8b3d-2a3a00f342f5', '2025-11-01', '2025-11-01 00:00', 'n1', 14400, 1),
                      (7, '5235154c-2132-56b5-8b3d-2a3a00f342f5', '2025-11-01', '2025-11-01 05:00', 'n1', 7200, 2),
                      (7, '5235154c-2132-56b5-8b3d-2a3a00f342f5', '2025-11-01', '2025-11-01 05:00', 'n1', 10800, NULL),
                      (7, '5235154c-2132-56b5-8b3d-2a3a00f342f5', '2025-11-01', '2025-11-01 23:00', 'n2', 3600, 3);"#,
        )
        .await
        .unwrap();

    Database::connect(db_config(&schema)).await.unwrap();

    let rows = client
        .query(
            "SELECT p.pod, ls.labels::text, p.pod_labels_id IS NULL
             FROM ocp_pod_usage_partial p
             LEFT JOIN ocp_label_set ls
                    ON ls.label_set_id = p.pod_labels_id AND ls.object_id = p.object_id
             ORDER BY p.pod",
            &[],
        )
        .await
        .unwrap();
    let maps: Vec<(String, Option<String>, bool)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let with = |pod: &str, labels: &str| (pod.to_owned(), Some(labels.to_owned()), false);
    assert_eq!(
        maps,
        vec![
            with("p1", r#"{"app": "a"}"#),
            with("p2", r#"{"app": "a"}"#),
            with("p3", r#"{"app": "b"}"#),
            with("p4", r#"{"app": "a"}"#),
            ("p5".to_owned(), None, true),
        ]
    );
    // One set per distinct map and object; equal maps share an id across objects.
    let sets = client
        .query_one(
            "SELECT count(*), count(DISTINCT label_set_id) FROM ocp_label_set",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((sets.get::<_, i64>(0), sets.get::<_, i64>(1)), (4, 3));
    let zone = client
        .query_one(
            "SELECT ls.labels ->> 'zone' FROM ocp_node_labels_partial p
             JOIN ocp_label_set ls ON ls.label_set_id = p.node_labels_id AND ls.object_id = p.object_id",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(zone.get::<_, String>(0), "z");
    // Hourly capacity rows became a row per node and day; two rows of one hour keep their max.
    let days = client
        .query(
            "SELECT node, array_length(node_capacity_cpu_core_seconds, 1)
             FROM ocp_node_capacity_partial ORDER BY node",
            &[],
        )
        .await
        .unwrap();
    let days: Vec<(String, i32)> = days.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(days, vec![("n1".to_owned(), 24), ("n2".to_owned(), 24)]);
    let hours = client
        .query(
            "SELECT node, interval_start::text, node_capacity_cpu_core_seconds,
                    node_capacity_memory_byte_seconds
             FROM ocp_node_capacity_hour ORDER BY node, interval_start",
            &[],
        )
        .await
        .unwrap();
    let hours: Vec<(String, String, f64, f64)> = hours
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let hour = |node: &str, at: &str, cpu: f64, memory: f64| {
        (
            node.to_owned(),
            format!("2025-11-01 {at}:00:00"),
            cpu,
            memory,
        )
    };
    assert_eq!(
        hours,
        vec![
            hour("n1", "00", 14400.0, 1.0),
            hour("n1", "05", 10800.0, 2.0),
            hour("n2", "23", 3600.0, 3.0),
        ]
    );
    // The old columns are gone and the day indexes are BRIN.
    let old = client
        .query_one(
            "SELECT count(*) FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name LIKE 'ocp\\_%\\_partial'
               AND column_name LIKE '%\\_labels'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(old.get::<_, i64>(0), 0);
    let brin = client
        .query_one(
            "SELECT count(*) FROM pg_class i JOIN pg_am am ON am.oid = i.relam
             WHERE i.relnamespace = current_schema()::regnamespace
               AND i.relname LIKE 'ocp\\_%\\_partial\\_day' AND am.amname = 'brin'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(brin.get::<_, i64>(0), 6, "one per partial table");
}
