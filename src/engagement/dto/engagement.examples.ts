import type { EngagementOverviewResponse } from 'src/engagement/dto/engagement.response';

// The documented answer's example (openapi.json), validated against the front end's contract by
// test/foundation/openapi-examples.int-spec.ts.
export const ENGAGEMENT_OVERVIEW_EXAMPLE: EngagementOverviewResponse = {
  engagement_overview: {
    total_patients: 2000,
    new_patients_this_month: 37,
    returning_patients: 612,
    engagement_trends: [
      { date: '2026-11-09', new_patients: 9, returning_patients: 141, engagement_score: 63.2 },
      { date: '2026-11-16', new_patients: 11, returning_patients: 152, engagement_score: 64.8 },
      { date: '2026-11-23', new_patients: 4, returning_patients: 58, engagement_score: 61.9 },
    ],
    satisfaction_metrics: {
      avg_satisfaction: 4.3,
      satisfaction_distribution: { very_satisfied: 210, satisfied: 145, neutral: 38, dissatisfied: 12, very_dissatisfied: 5 },
      nps_score: 52.4,
    },
  },
};
