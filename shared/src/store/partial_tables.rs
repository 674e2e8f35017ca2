//! The statements that touch every partial table, generated from the report specs: the list of
//! partial tables has one owner ([`crate::koku::report::partial_tables`]), so adding a report type
//! adds its tables here without editing SQL.

use crate::koku::report::{ReportType, partial_tables};

/// Deletes one object's partials from every partial table, and its label sets. `$1` object id,
/// `$2` source, `$3` first day, `$4` last day: the day range lets the BRIN indexes find the rows.
pub fn delete_object_partials() -> String {
    let deletes: Vec<String> = partial_tables()
        .enumerate()
        .map(|(i, table)| {
            format!(
                "d{i} AS (DELETE FROM {table} WHERE usage_start BETWEEN $3 AND $4 \
                 AND object_id = $1 AND source_uuid = $2)"
            )
        })
        .collect();
    format!(
        "WITH {}, label_sets AS (DELETE FROM ocp_label_set WHERE object_id = $1) SELECT 1",
        deletes.join(", ")
    )
}

/// Fresh planner statistics before a roll-up: ingest bulk-loads partials faster than autovacuum
/// analyzes them. Only the columns the roll-up filters and joins on (the source, the day and the
/// group keys). Block ranges of the BRIN day indexes that filled since they were last summarised
/// are summarised first, so the day filters skip them.
pub fn analyze_partials() -> String {
    let aggregates = || {
        ReportType::ALL
            .into_iter()
            .flat_map(|r| r.spec().aggregates)
    };
    let indexes: Vec<String> = aggregates()
        .map(|a| format!("'{}'", day_index(a.table)))
        .collect();
    let tables: Vec<String> = aggregates()
        .map(|a| {
            let keys: Vec<String> = a.keys.iter().map(|k| k.partial_column()).collect();
            format!(
                "{} (source_uuid, usage_start, {})",
                a.table,
                keys.join(", ")
            )
        })
        .collect();
    format!(
        "SELECT brin_summarize_new_values(index_name::regclass) \
         FROM unnest(array[{}]) AS index_name; ANALYZE {}, ocp_label_set (label_set_id, object_id)",
        indexes.join(", "),
        tables.join(", ")
    )
}

/// The BRIN index on `(usage_start, object_id)` of a partial table (migration 0003 names them).
pub fn day_index(table: &str) -> String {
    format!("{table}_day")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_partial_table_is_in_the_statements() {
        let delete = delete_object_partials();
        let analyze = analyze_partials();
        for table in partial_tables() {
            assert!(
                delete.contains(&format!("DELETE FROM {table} WHERE")),
                "{table}"
            );
            assert!(analyze.contains(&format!("'{table}_day'")), "{table}");
            assert!(
                analyze.contains(&format!("{table} (source_uuid, usage_start, ")),
                "{table}"
            );
        }
        assert_eq!(partial_tables().count(), 6);
        assert!(analyze.contains(
            "ocp_pod_usage_partial (source_uuid, usage_start, namespace, node, pod, pod_labels_id)"
        ));
    }
}
