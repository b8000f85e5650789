-- How much of an organization a next-day recompute would still have to read from the raw records if each patient's
-- features were kept from the last run and rolled forward (issue #5, docs/scoring.md "Incremental features"): a
-- patient's features at t0 stay exact until the first of
--   * any of its dated rows passing from the future into the past (a scheduled appointment's start, a communication,
--     a reply, a payment, a survey, a referral, a plan's start);
--   * its oldest engagement event in the recent window (90 days) leaving it, or its oldest in the prior window
--     (90 to 270 days) leaving that;
--   * always, while it has an active treatment plan under way (its progress moves with the clock);
-- the decayed sums roll forward exactly (Σ w at t1 = Σ w at t0 · exp(−λ (t1 − t0))). Changed records are not counted
-- here (the ingestion recomputes those patients anyway).
--
--   psql "$DATABASE_URL" -v org=bench -v t0=2026-12-01T06:00:00Z -f bench/incremental-probe.sql
--
-- Reads every dated row of the organization once (about 30 s at a million patients).
\set ON_ERROR_STOP on
SET jit = off;
SET work_mem = '512MB';
SELECT id AS org_id FROM organizations WHERE slug = :'org' \gset
CREATE TEMP TABLE probe_edges AS
WITH ev AS (
  SELECT patient_id, starts_at AS ts, (status = 'completed') AS eng FROM appointments WHERE organization_id = :'org_id'
  UNION ALL SELECT patient_id, occurred_at, (direction = 'inbound' AND kind IN ('message', 'call')) FROM communications WHERE organization_id = :'org_id'
  UNION ALL SELECT patient_id, responded_at, (direction = 'outbound') FROM communications WHERE organization_id = :'org_id' AND responded_at IS NOT NULL
  UNION ALL SELECT patient_id, occurred_at, (kind = 'payment' AND status = 'paid') FROM payments WHERE organization_id = :'org_id'
  UNION ALL SELECT patient_id, submitted_at, TRUE FROM survey_responses WHERE organization_id = :'org_id'
  UNION ALL SELECT referrer_patient_id, referred_at, FALSE FROM referrals WHERE organization_id = :'org_id'
  UNION ALL SELECT patient_id, started_at, FALSE FROM treatment_plans WHERE organization_id = :'org_id'
)
SELECT patient_id,
  min(ts) FILTER (WHERE ts > :'t0'::timestamptz) AS next_future,
  min(ts) FILTER (WHERE eng AND ts <= :'t0'::timestamptz AND ts > :'t0'::timestamptz - interval '90 days') + interval '90 days' AS recent_edge,
  min(ts) FILTER (WHERE eng AND ts <= :'t0'::timestamptz - interval '90 days' AND ts > :'t0'::timestamptz - interval '270 days') + interval '270 days' AS prior_edge
FROM ev GROUP BY patient_id;
CREATE TEMP TABLE probe_plans AS
SELECT DISTINCT patient_id FROM treatment_plans
 WHERE organization_id = :'org_id' AND status = 'active' AND started_at <= :'t0'::timestamptz AND ends_at > :'t0'::timestamptz AND ends_at > started_at;
WITH u AS (
  SELECT least(e.next_future, e.recent_edge, e.prior_edge, CASE WHEN pl.patient_id IS NOT NULL THEN :'t0'::timestamptz END) AS valid_until,
         pl.patient_id IS NOT NULL AS in_plan
  FROM patients p LEFT JOIN probe_edges e ON e.patient_id = p.id LEFT JOIN probe_plans pl ON pl.patient_id = p.id
  WHERE p.organization_id = :'org_id' AND p.deleted_at IS NULL
)
SELECT count(*) AS patients,
  count(*) FILTER (WHERE valid_until < :'t0'::timestamptz + interval '1 day') AS reread_next_day,
  count(*) FILTER (WHERE in_plan) AS of_which_active_plan,
  count(*) FILTER (WHERE valid_until < :'t0'::timestamptz + interval '7 days') AS reread_within_a_week,
  count(*) FILTER (WHERE valid_until IS NULL) AS never_by_the_clock
FROM u;
SELECT count(*) FILTER (WHERE next_future < :'t0'::timestamptz + interval '1 day') AS next_day_future_row_passes,
       count(*) FILTER (WHERE recent_edge < :'t0'::timestamptz + interval '1 day') AS next_day_recent_edge,
       count(*) FILTER (WHERE prior_edge < :'t0'::timestamptz + interval '1 day') AS next_day_prior_edge
FROM probe_edges;
