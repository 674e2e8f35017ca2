-- No JIT (compiling costs seconds here and saves nothing, measured); room to sort in memory. No
-- merge joins: the planner underestimates the aggregated CTEs (240 node-days for 1,000) and then
-- picks a merge join that rescans the capacities once per pod row (a 100K-pod day staged in 17 s
-- instead of 1 s, measured); hash joins are right for every join here.
SET LOCAL jit = off;
SET LOCAL work_mem = '64MB';
SET LOCAL enable_mergejoin = off;
-- The chunk's rows in double precision, as koku's staging tables hold them before the final cast.
CREATE TEMP TABLE ocp_rollup_rows (
    data_source                                    text,
    usage_start                                    date,
    namespace                                      text,
    node                                           text,
    resource_id                                    text,
    persistentvolumeclaim                          text,
    persistentvolume                               text,
    storageclass                                   text,
    pod_labels                                     jsonb,
    volume_labels                                  jsonb,
    cost_category_id                               int,
    pod_usage_cpu_core_hours                       double precision,
    pod_request_cpu_core_hours                     double precision,
    pod_effective_usage_cpu_core_hours             double precision,
    pod_limit_cpu_core_hours                       double precision,
    pod_usage_memory_gigabyte_hours                double precision,
    pod_request_memory_gigabyte_hours              double precision,
    pod_effective_usage_memory_gigabyte_hours      double precision,
    pod_limit_memory_gigabyte_hours                double precision,
    node_capacity_cpu_cores                        double precision,
    node_capacity_cpu_core_hours                   double precision,
    node_capacity_memory_gigabytes                 double precision,
    node_capacity_memory_gigabyte_hours            double precision,
    cluster_capacity_cpu_core_hours                double precision,
    cluster_capacity_memory_gigabyte_hours         double precision,
    persistentvolumeclaim_capacity_gigabyte        double precision,
    persistentvolumeclaim_capacity_gigabyte_months double precision,
    volume_request_storage_gigabyte_months         double precision,
    persistentvolumeclaim_usage_gigabyte_months    double precision
) ON COMMIT DROP
