-- koku's replacement predicate: every usage, unallocated and cost-model row of the days goes; rows
-- carrying infrastructure cost (OCP-on-cloud) stay. $1 report period, $2 days.
DELETE FROM reporting_ocpusagelineitem_daily_summary
WHERE usage_start = ANY ($2::date[])
  AND report_period_id = $1
  AND (infrastructure_raw_cost IS NULL OR infrastructure_raw_cost = 0)
