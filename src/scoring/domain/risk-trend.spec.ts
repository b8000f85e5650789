import { riskTrend } from 'src/scoring/domain/risk-trend';
import { scoringSettings } from 'src/scoring/domain/scoring-settings';

describe('riskTrend', () => {
  it.each([
    [35, 40, 'improving'],
    [30, 40, 'improving'],
    [35.1, 40, 'stable'],
    [44.9, 40, 'stable'],
    [45, 40, 'declining'],
    [90, 40, 'declining'],
    [40, 40, 'stable'],
  ] as const)('current %p vs previous %p → %p', (current, previous, expected) => {
    expect(riskTrend(current, previous)).toBe(expected);
  });

  it('handles one-decimal rounding at the threshold', () => {
    expect(riskTrend(40.3, 45.3)).toBe('improving');
    expect(riskTrend(45.3, 40.3)).toBe('declining');
  });

  it('is stable without an earlier score or with garbage', () => {
    expect(riskTrend(80, null)).toBe('stable');
    expect(riskTrend(80, NaN)).toBe('stable');
    expect(riskTrend(NaN, 10)).toBe('stable');
  });

  it('follows the organization threshold', () => {
    expect(riskTrend(37, 40, scoringSettings({ riskTrendThreshold: 3 }))).toBe('improving');
  });
});
