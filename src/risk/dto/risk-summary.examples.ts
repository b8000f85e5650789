import type { RiskSummaryResponse } from 'src/risk/dto/risk-summary.response';

// The documented answer's example (openapi.json), validated against the front end's contract by
// test/foundation/openapi-examples.int-spec.ts.
export const RISK_SUMMARY_EXAMPLE: RiskSummaryResponse = {
  risk_distribution: { low_risk: 1304, medium_risk: 412, high_risk: 284 },
  total_patients: 2000,
  risk_trends: { improving: 318, stable: 1455, declining: 227 },
  last_calculated: '2026-11-24T02:00:00.000Z',
};
