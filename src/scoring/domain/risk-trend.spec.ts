import { recordsRiskHistory, riskTrend } from 'src/scoring/domain/risk-trend';
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

describe('recordsRiskHistory', () => {
  it('records the first score, then only moves of at least the step (1 point) from the last recorded one', () => {
    expect(recordsRiskHistory(42, null)).toBe(true);
    expect(recordsRiskHistory(42, NaN)).toBe(true);
    expect(recordsRiskHistory(42.9, 42)).toBe(false);
    expect(recordsRiskHistory(41.1, 42)).toBe(false);
    expect(recordsRiskHistory(43, 42)).toBe(true);
    expect(recordsRiskHistory(41, 42)).toBe(true);
    expect(recordsRiskHistory(40.3, 41.3)).toBe(true); // one-decimal rounding at the step
    expect(recordsRiskHistory(42, 42)).toBe(false);
  });

  it('follows the organization step', () => {
    expect(recordsRiskHistory(42.5, 42, scoringSettings({ riskHistoryStep: 0.5 }))).toBe(true);
    expect(recordsRiskHistory(42.4, 42, scoringSettings({ riskHistoryStep: 0.5 }))).toBe(false);
  });
});
