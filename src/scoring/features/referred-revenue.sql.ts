import { type FeaturesQuery, NET_REVENUE } from 'src/scoring/features/sql-fragments';

/**
 * referredNetRevenueCents of every patient of organization $1 who referred someone before $2: Σ over the distinct
 * patients they referred of those patients' net revenue (the features query's definition). Rows (patient_id,
 * referred_net); referrers whose referred patients never paid are absent (0). Each referred patient's payments are
 * one index range (LATERAL): the hash join it replaced read the organization's whole payments table (6.6 s at a
 * million patients, 7.6 million payments, against 3.0 s for the 80,000 referred patients' ranges, cold).
 */
export function referredNetRevenueQuery(organizationId: string, now: Date): FeaturesQuery {
  return {
    sql: `
WITH d AS (
  SELECT DISTINCT referrer_patient_id, referred_patient_id FROM referrals WHERE organization_id = $1 AND referred_at <= $2
),
n AS MATERIALIZED (
  SELECT r.patient_id, v.net
  FROM (SELECT DISTINCT referred_patient_id AS patient_id FROM d) r
  CROSS JOIN LATERAL (SELECT ${NET_REVENUE} AS net FROM payments WHERE organization_id = $1 AND patient_id = r.patient_id) v
)
SELECT d.referrer_patient_id AS patient_id, sum(n.net)::float8 AS referred_net
FROM d JOIN n ON n.patient_id = d.referred_patient_id
GROUP BY d.referrer_patient_id
HAVING sum(n.net) <> 0`,
    params: [organizationId, now],
  };
}
