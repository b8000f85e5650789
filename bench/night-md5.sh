#!/bin/bash
# md5 of every table a night of small clinics writes (bench/orgs-bench.ts --nightly-only), ordered, without the
# columns that are the database's own clock, a duration, a random id or a transaction id: run on two databases whose
# nights ran with the same fixed clock (bench/app-clock.js, FIXED_CLOCK) and compare. `bench/night-md5.sh <database>`.
set -euo pipefail
db=$1
q() { psql -h 127.0.0.1 -U postgres -d "$db" -XAtc "$1"; }
md5of() { # name, rows (a query, or a table's select list: md5of table 'columns')
  local rows=$2
  [[ $rows == SELECT* ]] || rows="SELECT $2 FROM $1"
  printf '%-28s %s\n' "$1" "$(q "SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) || ' ' || count(*) FROM ($rows) r")"
}
md5of patient_metrics '*'
md5of risk_score_history 'organization_id, patient_id, recorded_on, risk_score, created_at, updated_at'
md5of patient_metric_counts 'SELECT organization_id, status, risk_level, risk_trend, sum(patients) AS patients FROM patient_metric_counts GROUP BY 1, 2, 3, 4'
md5of reengagement_opportunities 'organization_id, patient_id, opportunity_type, priority, outreach, channel, patient_status, estimated_value_cents, success_probability, expected_return_cents, last_contact_at, expected_visit_at, computed_at'
md5of opportunity_refreshes 'organization_id, refreshed_at, ltv_threshold_cents, totals'
md5of engagement_rollups 'organization_id, timezone, cutoff, built_at'
md5of engagement_patient_days '*'
md5of engagement_visit_gaps '*'
md5of model_fits 'organization_id, model, params, log_likelihood, sample_size, fitted_at, accepted, settings_key'
md5of patient_features "SELECT to_jsonb(f) - 'written_xid' AS row FROM patient_features f"
md5of job_runs "SELECT organization_id, type, status, payload, result - 'total_ms' - 'fit_ms' - 'phases_ms' - 'durationMs' AS result, progress, attempts, error, started_at, finished_at FROM job_runs"
