import { riskSummary } from 'src/risk/risk-summary.service';

describe('riskSummary', () => {
  it('buckets every group by level and by trend, both summing to the total', () => {
    const s = riskSummary(
      [
        { status: 'active', riskLevel: 'low', riskTrend: 'stable', patients: 10 },
        { status: 'dormant', riskLevel: 'low', riskTrend: 'improving', patients: 2 },
        { status: 'at_risk', riskLevel: 'high', riskTrend: 'declining', patients: 5 },
        { status: 'active', riskLevel: 'medium', riskTrend: 'stable', patients: 3 },
      ],
      '2026-11-24T03:00:00.000Z',
    );
    expect(s).toEqual({
      risk_distribution: { low_risk: 12, medium_risk: 3, high_risk: 5 },
      total_patients: 20,
      risk_trends: { improving: 2, stable: 13, declining: 5 },
      last_calculated: '2026-11-24T03:00:00.000Z',
    });
  });

  it('no patients: zeros', () => {
    expect(riskSummary([], 'x').total_patients).toBe(0);
  });
});
