SELECT ocp_ensure_summary_partition($1)
