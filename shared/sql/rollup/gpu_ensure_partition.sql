SELECT ocp_ensure_gpu_summary_partition($1)
