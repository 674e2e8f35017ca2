-- The demo's readable view of reporting_ocpusagelineitem_daily_summary (run with search_path set to
-- the demo schema). Units as in koku: core-hours, GiB-hours (2^30 bytes), GiB-months.
\pset footer off
\pset null '-'

\echo
\echo '== Summary rows per day and data source'
SELECT usage_start AS day, data_source, count(*) AS rows
FROM reporting_ocpusagelineitem_daily_summary
GROUP BY 1, 2
ORDER BY 1, 2;

\echo
\echo '== Pod usage per day and namespace (CPU core-hours, memory GiB-hours; effective = max(usage, request) per hour)'
SELECT usage_start AS day,
       namespace,
       round(sum(pod_usage_cpu_core_hours), 2)                  AS cpu_usage,
       round(sum(pod_request_cpu_core_hours), 2)                AS cpu_request,
       round(sum(pod_effective_usage_cpu_core_hours), 2)        AS cpu_effective,
       round(sum(pod_usage_memory_gigabyte_hours), 2)           AS mem_usage,
       round(sum(pod_request_memory_gigabyte_hours), 2)         AS mem_request,
       round(sum(pod_effective_usage_memory_gigabyte_hours), 2) AS mem_effective,
       count(DISTINCT pod_labels)                               AS label_sets
FROM reporting_ocpusagelineitem_daily_summary
WHERE data_source = 'Pod'
  AND namespace IS NOT NULL
  AND namespace NOT IN ('Platform unallocated', 'Worker unallocated')
GROUP BY 1, 2
ORDER BY 1, 2;

\echo
\echo '== Node capacity vs requests and unallocated, per day and node (core-hours, GiB-hours)'
\echo '   (unallocated = capacity - the node''s requests: koku''s Platform/Worker unallocated rows)'
WITH per_node AS (
    SELECT usage_start,
           node,
           max(namespace) FILTER (WHERE unalloc)                                 AS unallocated_as,
           max(node_capacity_cpu_cores)                                          AS cores,
           max(node_capacity_cpu_core_hours)                                     AS cpu_capacity,
           sum(pod_request_cpu_core_hours) FILTER (WHERE NOT unalloc)            AS cpu_requested,
           sum(pod_request_cpu_core_hours) FILTER (WHERE unalloc)                AS cpu_unallocated,
           max(node_capacity_memory_gigabytes)                                   AS mem_gib,
           max(node_capacity_memory_gigabyte_hours)                              AS mem_capacity,
           sum(pod_request_memory_gigabyte_hours) FILTER (WHERE NOT unalloc)     AS mem_requested,
           sum(pod_request_memory_gigabyte_hours) FILTER (WHERE unalloc)         AS mem_unallocated
    FROM (SELECT *, coalesce(namespace IN ('Platform unallocated', 'Worker unallocated')
                             OR (namespace IS NULL AND pod_labels IS NULL), false) AS unalloc
          FROM reporting_ocpusagelineitem_daily_summary
          WHERE data_source = 'Pod') s
    GROUP BY 1, 2
)
SELECT usage_start AS day,
       node,
       coalesce(unallocated_as, '(no role)')   AS unallocated_row,
       round(cores, 0)                         AS cores,
       round(cpu_capacity, 1)                  AS cpu_capacity,
       round(cpu_requested, 1)                 AS cpu_requested,
       round(cpu_unallocated, 1)               AS cpu_unallocated,
       round(mem_gib, 0)                       AS mem_gib,
       round(mem_capacity, 1)                  AS mem_capacity,
       round(mem_requested, 1)                 AS mem_requested,
       round(mem_unallocated, 1)               AS mem_unallocated,
       abs(cpu_requested + cpu_unallocated - cpu_capacity) < 1e-6
         AND abs(mem_requested + mem_unallocated - mem_capacity) < 1e-6 AS adds_up
FROM per_node
ORDER BY 1, 2;

\echo
\echo '== Storage per PVC and node, month to date (GiB-months = GiB held for the whole month)'
\echo '   (a PVC mounted on two nodes has a row per node; koku splits request and usage between them, not capacity)'
SELECT namespace,
       persistentvolumeclaim                                     AS pvc,
       storageclass,
       node,
       count(DISTINCT usage_start)                               AS days,
       round(max(persistentvolumeclaim_capacity_gigabyte), 1)    AS capacity_gib,
       round(sum(persistentvolumeclaim_capacity_gigabyte_months), 4) AS capacity_gib_months,
       round(sum(volume_request_storage_gigabyte_months), 4)     AS request_gib_months,
       round(sum(persistentvolumeclaim_usage_gigabyte_months), 4) AS usage_gib_months
FROM reporting_ocpusagelineitem_daily_summary
WHERE data_source = 'Storage'
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 4;
