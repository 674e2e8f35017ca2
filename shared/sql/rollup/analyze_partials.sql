-- Fresh planner statistics before a run: ingest bulk-loads partials faster than autovacuum
-- analyzes them, and with stale estimates (a few rows) the planner picks nested loops that filter
-- millions of row pairs. Sample-based, so it stays cheap on large tables.
ANALYZE ocp_pod_usage_partial, ocp_node_capacity_partial, ocp_storage_usage_partial,
        ocp_node_labels_partial, ocp_namespace_labels_partial
