/** Survey arithmetic (docs/journey.md, "Engagement overview"). */

export interface SurveyCounts {
  /** Responses with a 1-5 satisfaction answer, by rating. */
  byRating: Record<1 | 2 | 3 | 4 | 5, number>;
  /** Responses with a 0-10 recommendation answer, and how many were promoters (9-10) and detractors (0-6). */
  npsAnswers: number;
  promoters: number;
  detractors: number;
}

export interface SatisfactionMetrics {
  avg_satisfaction: number | null;
  satisfaction_distribution: {
    very_satisfied: number;
    satisfied: number;
    neutral: number;
    dissatisfied: number;
    very_dissatisfied: number;
  };
  nps_score: number | null;
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Mean rating (2 decimals), distribution, and NPS = % promoters − % detractors (1 decimal); null without answers. */
export function satisfactionMetrics(c: SurveyCounts): SatisfactionMetrics {
  const r = c.byRating;
  const n = r[1] + r[2] + r[3] + r[4] + r[5];
  const sum = 1 * r[1] + 2 * r[2] + 3 * r[3] + 4 * r[4] + 5 * r[5];
  return {
    avg_satisfaction: n === 0 ? null : round(sum / n, 2),
    satisfaction_distribution: {
      very_satisfied: r[5],
      satisfied: r[4],
      neutral: r[3],
      dissatisfied: r[2],
      very_dissatisfied: r[1],
    },
    nps_score: c.npsAnswers === 0 ? null : round(((c.promoters - c.detractors) / c.npsAnswers) * 100, 1),
  };
}
