-- Fresh planner statistics before a run: ingest bulk-loads partials faster than autovacuum
-- analyzes them, and with stale estimates (a few rows) the planner picks nested loops that filter
-- millions of row pairs. Only the columns the roll-up filters and joins on: the label maps' jsonb
-- statistics would cost two thirds of the time and steer no plan.
ANALYZE ocp_pod_usage_partial (source_uuid, usage_start, namespace, node, pod),
        ocp_node_capacity_partial (source_uuid, usage_start, node),
        ocp_storage_usage_partial (source_uuid, usage_start, namespace, pod, persistentvolumeclaim,
                                   persistentvolume),
        ocp_node_labels_partial (source_uuid, usage_start, node),
        ocp_namespace_labels_partial (source_uuid, usage_start, namespace)
