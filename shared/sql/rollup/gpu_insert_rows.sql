-- One reporting_ocp_gpu_summary_p row per group of koku's on-prem usage-only rule (gpu spec §5.2),
-- from the GPU partials of the objects that count. Group keys are compared as stored: NULL groups
-- with NULL and '' is its own value (§10 G1). The partials are per pod, which the summary does not
-- group by: pods sharing a GPU in a namespace make one row (§10 G4). Maxima over the partials'
-- per-object maxima equal koku's maxima over the hourly rows.
-- $1 source uuid, $2 days, $3 and $4 the first and last of them (the BRIN index needs the range),
-- $5 cluster id, $6 cluster alias.
INSERT INTO reporting_ocp_gpu_summary_p (
    id, cluster_id, cluster_alias, namespace, node, usage_start, usage_end, vendor_name, model_name,
    memory_capacity_gb, gpu_count, mig_instance_id, gpu_uuid, gpu_mode, mig_profile,
    mig_slice_count, gpu_max_slices, mig_memory_capacity_gb, mig_strategy, source_uuid,
    cost_category_id
)
WITH superseded AS (
    SELECT object_id FROM ocp_object_payload
    WHERE source_uuid = $1 AND NOT counted AND days && $2::date[]
)
SELECT gen_random_uuid(), $5, $6, g.namespace, g.node, g.usage_start, g.usage_start,
       g.gpu_vendor_name, g.gpu_model_name,
       -- MiB to decimal GB (2^20 / 10^9), in double precision as koku computes it; the column's
       -- numeric(33,15) then keeps 15 significant digits (§5.2, §10 G13).
       max(g.gpu_memory_capacity_mib) * 0.001048576,
       -- koku's on-prem count of distinct coalesce(instance, uuid): both are keys, so 1, or 0 when
       -- both are NULL; '' counts as a value (§5.2).
       count(DISTINCT coalesce(g.mig_instance_id, g.gpu_uuid)),
       g.mig_instance_id, g.gpu_uuid,
       CASE WHEN max(NULLIF(g.mig_profile, '')) IS NOT NULL THEN 'MIG' ELSE 'dedicated' END,
       max(NULLIF(g.mig_profile, '')),
       max(g.mig_slice_count)::integer,
       max(g.gpu_max_slices)::integer,
       max(g.mig_memory_capacity_mib) * 0.001048576,
       -- No NULLIF here, unlike mig_profile: a MIG-aware operator's dedicated GPU keeps '' (§10 G1).
       max(g.mig_strategy),
       $1,
       -- The highest id among the categories whose LIKE pattern the namespace matches (§10 G16).
       max(cat.cost_category_id)
FROM ocp_gpu_usage_partial g
LEFT JOIN reporting_ocp_cost_category_namespace cat ON g.namespace LIKE cat.namespace
WHERE g.source_uuid = $1 AND g.usage_start BETWEEN $3 AND $4
  AND g.usage_start = ANY ($2::date[])
  AND g.object_id NOT IN (SELECT object_id FROM superseded)
GROUP BY g.namespace, g.node, g.gpu_vendor_name, g.gpu_model_name, g.mig_profile, g.usage_start,
         g.mig_instance_id, g.gpu_uuid
