-- Fresh planner statistics before a run: ingest bulk-loads partials faster than autovacuum
-- analyzes them, and with stale estimates (a few rows) the planner picks nested loops that filter
-- millions of row pairs. Only the columns the roll-up filters and joins on. Block ranges of the
-- BRIN indexes that filled since autovacuum last summarised them are summarised first, so the
-- day filters skip them (unsummarised ranges are read whatever they hold).
SELECT brin_summarize_new_values(index_name::regclass)
FROM unnest(array['ocp_pod_usage_partial_day', 'ocp_node_capacity_partial_day',
                  'ocp_storage_usage_partial_day', 'ocp_node_labels_partial_day',
                  'ocp_namespace_labels_partial_day']) AS index_name;
ANALYZE ocp_pod_usage_partial (source_uuid, usage_start, namespace, node, pod, pod_labels_id),
        ocp_node_capacity_partial (source_uuid, usage_start, node),
        ocp_storage_usage_partial (source_uuid, usage_start, namespace, pod, persistentvolumeclaim,
                                   persistentvolume),
        ocp_node_labels_partial (source_uuid, usage_start, node),
        ocp_namespace_labels_partial (source_uuid, usage_start, namespace),
        ocp_label_set (label_set_id, object_id);
