-- Copies the staged Pod and Storage rows into koku's table (spec §4.8): doubles become
-- numeric(33,15), all_labels = pod labels || volume labels. $1 report period, $2 cluster id,
-- $3 cluster alias, $4 source uuid.
INSERT INTO reporting_ocpusagelineitem_daily_summary (
    uuid, report_period_id, cluster_id, cluster_alias, data_source, usage_start, usage_end,
    namespace, node, resource_id, persistentvolumeclaim, persistentvolume, storageclass,
    pod_labels, volume_labels, all_labels, source_uuid, cost_category_id, infrastructure_usage_cost,
    pod_usage_cpu_core_hours, pod_request_cpu_core_hours, pod_effective_usage_cpu_core_hours,
    pod_limit_cpu_core_hours, pod_usage_memory_gigabyte_hours, pod_request_memory_gigabyte_hours,
    pod_effective_usage_memory_gigabyte_hours, pod_limit_memory_gigabyte_hours,
    node_capacity_cpu_cores, node_capacity_cpu_core_hours, node_capacity_memory_gigabytes,
    node_capacity_memory_gigabyte_hours, cluster_capacity_cpu_core_hours,
    cluster_capacity_memory_gigabyte_hours, persistentvolumeclaim_capacity_gigabyte,
    persistentvolumeclaim_capacity_gigabyte_months, volume_request_storage_gigabyte_months,
    persistentvolumeclaim_usage_gigabyte_months
)
SELECT gen_random_uuid(), $1, $2, $3, data_source, usage_start, usage_start,
       namespace, node, resource_id, persistentvolumeclaim, persistentvolume, storageclass,
       pod_labels, volume_labels,
       coalesce(pod_labels, '{}'::jsonb) || coalesce(volume_labels, '{}'::jsonb),
       $4, cost_category_id,
       '{"cpu": 0.000000000, "memory": 0.000000000, "storage": 0.000000000}'::jsonb,
       pod_usage_cpu_core_hours, pod_request_cpu_core_hours, pod_effective_usage_cpu_core_hours,
       pod_limit_cpu_core_hours, pod_usage_memory_gigabyte_hours, pod_request_memory_gigabyte_hours,
       pod_effective_usage_memory_gigabyte_hours, pod_limit_memory_gigabyte_hours,
       node_capacity_cpu_cores, node_capacity_cpu_core_hours, node_capacity_memory_gigabytes,
       node_capacity_memory_gigabyte_hours, cluster_capacity_cpu_core_hours,
       cluster_capacity_memory_gigabyte_hours, persistentvolumeclaim_capacity_gigabyte,
       persistentvolumeclaim_capacity_gigabyte_months, volume_request_storage_gigabyte_months,
       persistentvolumeclaim_usage_gigabyte_months
FROM ocp_rollup_rows
