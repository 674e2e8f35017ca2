-- GPU usage (koku-ocp-gpu-vm.md): the partial ingest writes from koku's raw hourly gpu_usage files,
-- and koku's reporting_ocp_gpu_summary_p, created only where it does not exist (against a koku
-- tenant schema, koku's own table is used unchanged).

-- One row per object, day, pod and GPU or MIG instance (report spec GPU_USAGE): the summary's
-- group keys plus the pod, the maxima the summary takes and the pod's uptime on the GPU that day.
-- Text keys keep NULL and '' apart, as koku's GROUP BY does (gpu spec §10 G1).
CREATE TABLE IF NOT EXISTS ocp_gpu_usage_partial (
    object_id               bigint NOT NULL,
    source_uuid             uuid NOT NULL,
    usage_start             date NOT NULL,
    namespace               text,
    node                    text,
    pod                     text,
    gpu_uuid                text,
    mig_instance_id         text,
    gpu_vendor_name         text,
    gpu_model_name          text,
    mig_profile             text,
    mig_strategy            text,
    gpu_pod_uptime          double precision,
    gpu_memory_capacity_mib double precision,
    mig_slice_count         double precision,
    gpu_max_slices          double precision,
    mig_memory_capacity_mib double precision
);
-- Named <table>_day like the other partials' BRIN indexes (the roll-up summarises them by name).
CREATE INDEX IF NOT EXISTS ocp_gpu_usage_partial_day ON ocp_gpu_usage_partial
    USING brin (usage_start, object_id) WITH (autosummarize = on);

-- koku's OCPGpuSummaryP (gpu spec §5.1): columns and types as koku's migrations leave them.
-- source_uuid has no foreign key here: this schema has no provider table.
CREATE TABLE IF NOT EXISTS reporting_ocp_gpu_summary_p (
    id                     uuid NOT NULL DEFAULT gen_random_uuid(),
    cluster_id             text NOT NULL,
    cluster_alias          text,
    namespace              varchar(253),
    node                   varchar(253),
    usage_start            date NOT NULL,
    usage_end              date NOT NULL,
    vendor_name            varchar(128),
    model_name             varchar(128),
    memory_capacity_gb     numeric(33, 15),
    gpu_count              integer,
    mig_instance_id        varchar(128),
    gpu_uuid               varchar(128),
    gpu_mode               varchar(32),
    mig_profile            varchar(64),
    mig_slice_count        integer,
    gpu_max_slices         integer,
    mig_memory_capacity_gb numeric(33, 15),
    mig_strategy           varchar(10),
    cost_model_gpu_cost    numeric(33, 15),
    cost_model_cpu_cost    numeric(33, 15),
    cost_model_memory_cost numeric(33, 15),
    cost_model_volume_cost numeric(33, 15),
    cost_model_rate_type   text,
    raw_currency           text,
    source_uuid            uuid,
    cost_category_id       int REFERENCES reporting_ocp_cost_category (id) ON DELETE SET NULL,
    PRIMARY KEY (id, usage_start)
) PARTITION BY RANGE (usage_start);

CREATE INDEX IF NOT EXISTS ocp_gpu_summary_day
    ON reporting_ocp_gpu_summary_p (usage_start, source_uuid);

-- Creates the month's partition (koku's naming: <table>_YYYY_MM) when it is missing.
CREATE OR REPLACE FUNCTION ocp_ensure_gpu_summary_partition(day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    month_start date := date_trunc('month', day)::date;
    partition   text := 'reporting_ocp_gpu_summary_p_' || to_char(month_start, 'YYYY_MM');
BEGIN
    IF to_regclass(quote_ident(partition)) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS %I PARTITION OF reporting_ocp_gpu_summary_p '
            'FOR VALUES FROM (%L) TO (%L)',
            partition, month_start, (month_start + interval '1 month')::date);
    END IF;
END
$$;
