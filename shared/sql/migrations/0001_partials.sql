-- Partial daily aggregates written by ingest, one set per S3 object version.
--
-- Every partial row carries (source_uuid, usage_start, object_id): the roll-up reads by source and
-- day, ingest replaces by object, and one index serves both. There is deliberately no foreign key to
-- ocp_ingested_object: a per-row FK check would dominate the bulk COPY, and ingest keeps the two
-- consistent inside one transaction per object.

-- The current version of every object ingest has seen, including removed ones (tombstones guard
-- against late, older events) and ones that failed validation.
CREATE TABLE IF NOT EXISTS ocp_ingested_object (
    object_id     bigserial PRIMARY KEY,
    bucket        text NOT NULL,
    object_key    text NOT NULL,
    etag          text,
    sequencer     text,
    state         text NOT NULL CHECK (state IN ('present', 'removed', 'failed')),
    report_type   text,
    source_uuid   uuid,
    days          date[] NOT NULL DEFAULT '{}',
    rows_read     bigint NOT NULL DEFAULT 0,
    partial_rows  bigint NOT NULL DEFAULT 0,
    bytes_fetched bigint NOT NULL DEFAULT 0,
    object_size   bigint NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bucket, object_key)
);

-- koku's daily pod table (spec §2.2), minus what the summary never reads.
CREATE TABLE IF NOT EXISTS ocp_pod_usage_partial (
    object_id                               bigint NOT NULL,
    source_uuid                             uuid NOT NULL,
    usage_start                             date NOT NULL,
    namespace                               text,
    node                                    text,
    pod                                     text,
    pod_labels                              jsonb,
    resource_id                             text,
    node_role                               text,
    pod_usage_cpu_core_seconds              double precision,
    pod_request_cpu_core_seconds            double precision,
    pod_effective_usage_cpu_core_seconds    double precision,
    pod_limit_cpu_core_seconds              double precision,
    pod_usage_memory_byte_seconds           double precision,
    pod_request_memory_byte_seconds         double precision,
    pod_effective_usage_memory_byte_seconds double precision,
    pod_limit_memory_byte_seconds           double precision,
    node_capacity_cpu_cores                 double precision,
    node_capacity_memory_bytes              double precision
);
CREATE INDEX IF NOT EXISTS ocp_pod_usage_partial_day
    ON ocp_pod_usage_partial (source_uuid, usage_start, object_id);

-- Per node and hour, the max capacity over the node's pods (spec §4.4); the roll-up takes the max
-- across objects per hour, then sums the hours of a day.
CREATE TABLE IF NOT EXISTS ocp_node_capacity_partial (
    object_id                         bigint NOT NULL,
    source_uuid                       uuid NOT NULL,
    usage_start                       date NOT NULL,
    interval_start                    timestamp NOT NULL,
    node                              text,
    node_capacity_cpu_core_seconds    double precision,
    node_capacity_memory_byte_seconds double precision
);
CREATE INDEX IF NOT EXISTS ocp_node_capacity_partial_day
    ON ocp_node_capacity_partial (source_uuid, usage_start, object_id);

-- koku's daily storage table (spec §2.2) without the columns the summary does not read.
CREATE TABLE IF NOT EXISTS ocp_storage_usage_partial (
    object_id                                   bigint NOT NULL,
    source_uuid                                 uuid NOT NULL,
    usage_start                                 date NOT NULL,
    namespace                                   text,
    pod                                         text,
    persistentvolumeclaim                       text,
    persistentvolume                            text,
    storageclass                                text,
    csi_volume_handle                           text,
    persistentvolume_labels                     jsonb,
    persistentvolumeclaim_labels                jsonb,
    persistentvolumeclaim_capacity_byte_seconds double precision,
    volume_request_storage_byte_seconds         double precision,
    persistentvolumeclaim_usage_byte_seconds    double precision,
    persistentvolumeclaim_capacity_bytes        double precision
);
CREATE INDEX IF NOT EXISTS ocp_storage_usage_partial_day
    ON ocp_storage_usage_partial (source_uuid, usage_start, object_id);

CREATE TABLE IF NOT EXISTS ocp_node_labels_partial (
    object_id   bigint NOT NULL,
    source_uuid uuid NOT NULL,
    usage_start date NOT NULL,
    node        text,
    node_labels jsonb
);
CREATE INDEX IF NOT EXISTS ocp_node_labels_partial_day
    ON ocp_node_labels_partial (source_uuid, usage_start, object_id);

CREATE TABLE IF NOT EXISTS ocp_namespace_labels_partial (
    object_id        bigint NOT NULL,
    source_uuid      uuid NOT NULL,
    usage_start      date NOT NULL,
    namespace        text,
    namespace_labels jsonb
);
CREATE INDEX IF NOT EXISTS ocp_namespace_labels_partial_day
    ON ocp_namespace_labels_partial (source_uuid, usage_start, object_id);

-- (source, day) pairs whose partials changed since their last roll-up. `generation` grows on every
-- mark, so the roll-up clears only the marks it saw and never one set while it ran.
CREATE SEQUENCE IF NOT EXISTS ocp_dirty_day_generation;
CREATE TABLE IF NOT EXISTS ocp_dirty_day (
    source_uuid uuid NOT NULL,
    usage_start date NOT NULL,
    generation  bigint NOT NULL,
    marked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_uuid, usage_start)
);

-- Objects that are bad for good, with the reason; their content contributes nothing.
CREATE TABLE IF NOT EXISTS ocp_ingest_error (
    id         bigserial PRIMARY KEY,
    bucket     text NOT NULL,
    object_key text NOT NULL,
    etag       text,
    sequencer  text,
    reason     text NOT NULL,
    failed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ocp_ingest_error_key ON ocp_ingest_error (bucket, object_key);
