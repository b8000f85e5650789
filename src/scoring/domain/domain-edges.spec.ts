import { compressHistories, expectedVisitsDirect, expectedVisitsNewCustomer } from 'src/scoring/domain/bg-nbd';
import { engagementEventsSql } from 'src/scoring/domain/engagement-events';
import { deterministicSample } from 'src/scoring/domain/fit-sample';
import { nelderMead } from 'src/scoring/domain/nelder-mead';
import { emptyFeatures } from 'src/scoring/domain/patient-features';
import { DEFAULT_SCORING_SETTINGS, scoringSettings } from 'src/scoring/domain/scoring-settings';
import { fitOrganizationModels } from 'src/scoring/domain/scoring-models';
import { aliveProbability } from 'src/scoring/domain/success-probability';

/** The less travelled paths of the domain code: weights, defaults, degenerate parameters, ties. */
const NOW = Date.UTC(2026, 10, 24, 12);
const DAY = 86_400_000;
const PARAMS = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

describe('domain edge cases', () => {
  it('merges weighted histories, adding their weights', () => {
    expect(compressHistories([{ x: 1, tx: 2, T: 10, weight: 3 }, { x: 1, tx: 2, T: 10, weight: 2 }, { x: 1, tx: 2, T: 10 }])).toEqual([{ x: 1, tx: 2, T: 10, weight: 6 }]);
  });

  it('the direct series and the new-customer expectation: 0 for no horizon, finite at a = 1', () => {
    const h = { x: 2, tx: 30.43, T: 38.86 };
    expect(expectedVisitsDirect(PARAMS, h, 0)).toBe(0);
    expect(expectedVisitsNewCustomer(PARAMS, -1)).toBe(0);
    const atOne = { ...PARAMS, a: 1 };
    expect(expectedVisitsDirect(atOne, h, 39)).toBeCloseTo(expectedVisitsDirect({ ...PARAMS, a: 1.0001 }, h, 39), 3);
    expect(expectedVisitsNewCustomer(atOne, 39)).toBeCloseTo(expectedVisitsNewCustomer({ ...PARAMS, a: 1.0001 }, 39), 3);
    expect(expectedVisitsDirect(PARAMS, { x: 0, tx: 0, T: 38.86 }, 39)).toBeGreaterThan(0);
  });

  it('the engagement event stream with its default parameters', () => {
    const sql = engagementEventsSql();
    expect(sql.split('UNION ALL')).toHaveLength(5);
    expect(sql).toContain('<= :now');
    expect(sql).toContain('AND (TRUE)');
  });

  it('a sample of rows with equal keys keeps one order whatever the input order', () => {
    const rows = ['b', 'a', 'b', 'c', 'a', 'd'];
    const sample = deterministicSample(rows, (r) => r, 3, 7);
    expect(sample).toHaveLength(3);
    expect(deterministicSample([...rows].reverse(), (r) => r, 3, 7).sort()).toEqual([...sample].sort());
    expect(deterministicSample(rows, (r) => r, 0, 7)).toEqual([]);
  });

  it('Nelder-Mead treats NaN as +Infinity and takes a function tolerance', () => {
    const f = (p: number[]): number => (p[0] < -5 ? NaN : (p[0] - 1) ** 2 + (p[1] + 2) ** 2);
    const result = nelderMead(f, [0, 0], { functionTolerance: 1e-10 });
    expect(result.point[0]).toBeCloseTo(1, 3);
    expect(result.point[1]).toBeCloseTo(-2, 3);
  });

  it('P(alive) falls back to the visit rhythm when the model gives no number', () => {
    const f = emptyFeatures({ firstVisitAt: NOW - 300 * DAY, lastVisitAt: NOW - 100 * DAY, completedVisits: 3 });
    const broken = { bgnbd: { r: NaN, alpha: NaN, a: NaN, b: NaN }, gammaGamma: { p: 1, q: 2, v: 3 } };
    // usual interval (300 − 100) / 2 = 100 days; 100 days since the last visit: gap 1 → 1 / (1 + 0) = 1
    expect(aliveProbability(f, NOW, broken)).toBe(1);
  });

  it('fits nothing below 50 patients with a visit', () => {
    const patients = Array.from({ length: 10 }, (_, i) => ({ id: `p${i}`, features: emptyFeatures({ firstVisitAt: NOW - 100 * DAY, lastVisitAt: NOW - 10 * DAY, completedVisits: 3 }) }));
    expect(fitOrganizationModels(patients, NOW)).toBeNull();
  });

  it('drops every override when resetting the named ones still leaves a contradiction', () => {
    // atRiskAfterDays 0 is reset to 90; activeWithinDays 100 then contradicts it: every override goes.
    expect(scoringSettings({ activeWithinDays: 100, atRiskAfterDays: 0, decayHalfLifeDays: 30 })).toEqual({ ...DEFAULT_SCORING_SETTINGS });
  });
});
