-- Synthetic clinic for the journey / engagement / opportunities benchmark (bench/journey-bench.ts).
-- psql -v n=1000000 -v now="'2026-11-24T12:00:00Z'" -f bench/journey-data.sql <migrated database>
-- Per patient on average: ~5 appointments, ~3 communications, 0.3 surveys, 0.3 journey events, 0.2 enrollments,
-- 0.3 treatment plans, and one patient_metrics row (values drawn, not computed: the queries only read them).
\set ON_ERROR_STOP on
SELECT setseed(0.42);
SET synchronous_commit = off;
SET maintenance_work_mem = '512MB';

INSERT INTO organizations (id, slug, name, timezone, currency)
VALUES ('00000000-0000-4000-8000-00000000b001', 'bench-journey', 'Bench Journey Clinic', 'Europe/Berlin', 'EUR')
ON CONFLICT DO NOTHING;

CREATE TEMP TABLE gp AS
SELECT i,
       ('00000000-0000-4000-a000-' || lpad(to_hex(i), 12, '0'))::uuid AS id,
       (:now::timestamptz - (random() * 1400 + 10) * interval '1 day') AS registered_at,
       (random() * 10)::int AS n_appts,
       random() AS r
  FROM generate_series(1, :n) i;

INSERT INTO patients (id, organization_id, source, external_id, name, registered_at, preferred_channel, marketing_consent, appointment_reminders)
SELECT id, '00000000-0000-4000-8000-00000000b001', 'bench', 'p' || i, 'Patient ' || i, registered_at,
       (ARRAY['phone', 'sms', 'email', 'whatsapp'])[1 + i % 4], i % 3 <> 0, i % 5 <> 0
  FROM gp;

-- Past appointments: spread between registration and now; 85% completed.
INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status, value_cents)
SELECT '00000000-0000-4000-8000-00000000b001', 'bench', 'a' || gp.i || '-' || k, gp.id,
       gp.registered_at + (k::float / (gp.n_appts + 1)) * (:now::timestamptz - gp.registered_at),
       'consultation',
       CASE WHEN random() < 0.85 THEN 'completed' WHEN random() < 0.5 THEN 'cancelled' ELSE 'no_show' END,
       (5000 + random() * 15000)::int
  FROM gp, generate_series(1, gp.n_appts) k;

-- Upcoming appointments for 15% of patients.
INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status, value_cents)
SELECT '00000000-0000-4000-8000-00000000b001', 'bench', 'f' || i, id, :now::timestamptz + (1 + random() * 60) * interval '1 day',
       'consultation', 'scheduled', 10000
  FROM gp WHERE r < 0.15;

INSERT INTO communications (organization_id, source, external_id, patient_id, occurred_at, channel, kind, direction, responded_at, outcome)
SELECT '00000000-0000-4000-8000-00000000b001', 'bench', 'c' || gp.i || '-' || k, gp.id,
       gp.registered_at + random() * (:now::timestamptz - gp.registered_at),
       (ARRAY['phone', 'sms', 'email', 'whatsapp'])[1 + k % 4], (ARRAY['call', 'message', 'email', 'message'])[1 + k % 4],
       CASE WHEN k % 3 = 0 THEN 'inbound' ELSE 'outbound' END, NULL, NULL
  FROM gp, generate_series(1, (gp.r * 6)::int) k;

INSERT INTO survey_responses (organization_id, source, external_id, patient_id, submitted_at, satisfaction, nps)
SELECT '00000000-0000-4000-8000-00000000b001', 'bench', 's' || i, id, registered_at + random() * (:now::timestamptz - registered_at),
       1 + (random() * 4)::int, (random() * 10)::int
  FROM gp WHERE r > 0.7;

INSERT INTO journey_events (organization_id, source, external_id, patient_id, occurred_at, stage, outcome)
SELECT '00000000-0000-4000-8000-00000000b001', 'bench', 'j' || i, id, registered_at + interval '3 days', 'new_lead', 'web form'
  FROM gp WHERE r < 0.3;

INSERT INTO automation_enrollments (organization_id, source, external_id, patient_id, sequence, step, step_index, total_steps, next_action, next_action_at, status, enrolled_at)
SELECT '00000000-0000-4000-8000-00000000b001', 'bench', 'e' || i, id, 'recall', 'reminder 1', 1, 4, 'send reminder',
       :now::timestamptz + interval '2 days', CASE WHEN r < 0.1 THEN 'active' ELSE 'completed' END, registered_at
  FROM gp WHERE r < 0.2;

INSERT INTO treatment_plans (organization_id, source, external_id, patient_id, name, planned_sessions, completed_sessions, session_value_cents, status, started_at, ends_at)
SELECT '00000000-0000-4000-8000-00000000b001', 'bench', 't' || i, id, 'plan', 6, CASE WHEN r < 0.55 THEN 2 ELSE 6 END, 9000,
       CASE WHEN r < 0.55 THEN 'active' ELSE 'completed' END, registered_at, registered_at + interval '90 days'
  FROM gp WHERE r BETWEEN 0.4 AND 0.7;

INSERT INTO patient_metrics (organization_id, patient_id, sort_name, status, risk_score, risk_level, engagement_score, ltv_cents,
                             avg_session_value_cents, total_sessions, last_appointment_at, next_appointment_at, last_contact_at,
                             success_probability, stale, computed_at, first_visit_at)
SELECT '00000000-0000-4000-8000-00000000b001', gp.id, 'patient ' || gp.i,
       CASE WHEN gp.r < 0.15 THEN 'active' WHEN gp.r < 0.45 THEN 'active' WHEN gp.r < 0.7 THEN 'dormant' ELSE 'at_risk' END,
       (gp.r * 100)::real, CASE WHEN gp.r < 0.4 THEN 'low' WHEN gp.r < 0.75 THEN 'medium' ELSE 'high' END,
       ((1 - gp.r) * 100)::real, (exp(random() * 5) * 2000)::int, 10000 + (random() * 5000)::int, gp.n_appts,
       v.last_visit, CASE WHEN gp.r < 0.15 THEN :now::timestamptz + interval '10 days' END,
       v.last_visit, (0.1 + random() * 0.8)::real, false, :now::timestamptz, v.first_visit
  FROM gp
  LEFT JOIN LATERAL (SELECT min(a.starts_at) AS first_visit, max(a.starts_at) AS last_visit FROM appointments a
                      WHERE a.organization_id = '00000000-0000-4000-8000-00000000b001' AND a.patient_id = gp.id AND a.status = 'completed') v ON true;

ANALYZE;
