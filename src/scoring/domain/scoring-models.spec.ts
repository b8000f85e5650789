import { emptyFeatures, type PatientFeatures } from 'src/scoring/domain/patient-features';
import { fitBgNbd } from 'src/scoring/domain/bg-nbd';
import { BG_NBD_ABANDON_ABOVE, fitOrganizationModels, repeatHistory, spendHistory } from 'src/scoring/domain/scoring-models';
import { scoringSettings } from 'src/scoring/domain/scoring-settings';
import { simulateBgNbd } from 'src/scoring/domain/simulation';
import { DAY_MS } from 'src/common/time/calendar';

const NOW = Date.UTC(2026, 5, 1);
const WEEK = 7 * DAY_MS;

describe('repeatHistory / spendHistory', () => {
  it('maps visits to BG/NBD (x, t_x, T) in weeks', () => {
    const f = emptyFeatures({ firstVisitAt: NOW - 52 * WEEK, lastVisitAt: NOW - 2 * WEEK, completedVisits: 6 });
    expect(repeatHistory(f, NOW)).toEqual({ x: 5, tx: 50, T: 52 });
    expect(repeatHistory(emptyFeatures({ firstVisitAt: NOW - WEEK, lastVisitAt: NOW - WEEK, completedVisits: 1 }), NOW)).toEqual({ x: 0, tx: 0, T: 1 });
  });

  it('returns null without a visit or with a first visit not before now, and clamps inconsistent dates', () => {
    expect(repeatHistory(emptyFeatures(), NOW)).toBeNull();
    expect(repeatHistory(emptyFeatures({ firstVisitAt: NOW, lastVisitAt: NOW, completedVisits: 1 }), NOW)).toBeNull();
    const inconsistent = repeatHistory(emptyFeatures({ firstVisitAt: NOW - WEEK, lastVisitAt: NOW + WEEK, completedVisits: 3 }), NOW);
    expect(inconsistent).toEqual({ x: 2, tx: 1, T: 1 });
  });

  it('maps visit values to Gamma-Gamma (x, z̄)', () => {
    expect(spendHistory(emptyFeatures({ completedVisits: 4, visitValueCents: 40_000 }))).toEqual({ x: 4, zbar: 10_000 });
    expect(spendHistory(emptyFeatures({ completedVisits: 4, visitValueCents: 0 }))).toBeNull();
    expect(spendHistory(emptyFeatures())).toBeNull();
  });
});

describe('fitOrganizationModels', () => {
  const patients = simulateBgNbd({ r: 0.24, alpha: 4.41, a: 0.79, b: 2.43 }, 1_500, { minT: 26, maxT: 104, granularity: 1 / 7 }, 5).map(
    (h, i): { id: string; features: PatientFeatures } => ({
      id: `p${i}`,
      features: emptyFeatures({
        firstVisitAt: NOW - h.T * WEEK,
        lastVisitAt: NOW - (h.T - h.tx) * WEEK,
        completedVisits: h.x + 1,
        visitValueCents: (h.x + 1) * (5_000 + (i % 7) * 1_000),
      }),
    }),
  );

  it('fits both models on a deterministic sample capped by the settings', () => {
    const settings = scoringSettings({ fitSampleSize: 600 });
    const fit = fitOrganizationModels(patients, NOW, settings);
    expect(fit).not.toBeNull();
    expect(fit!.sampleSize).toBe(600);
    // The same fit to the last digit whatever order the rows come in (a features chunk, a sample read).
    expect(fitOrganizationModels([...patients].reverse(), NOW, settings)).toEqual(fit);
    expect(fit!.bgnbd.r).toBeGreaterThan(0.1);
    expect(fit!.bgnbd.r).toBeLessThan(0.5);
    expect(fit!.gammaGamma.q).toBeGreaterThan(0);
  });

  it('returns null for a clinic too small to fit', () => {
    expect(fitOrganizationModels(patients.slice(0, 49), NOW)).toBeNull();
    expect(fitOrganizationModels([], NOW)).toBeNull();
  });

  it('gives up a BG/NBD search that runs to infinity (everyone visiting every 4 weeks, nobody dropping out)', () => {
    const regulars = Array.from({ length: 300 }, (_, i): { id: string; features: PatientFeatures } => {
      const T = 20 + (i % 80);
      const x = Math.floor(T / 4);
      return { id: `r${i}`, features: emptyFeatures({ firstVisitAt: NOW - T * WEEK, lastVisitAt: NOW - (T - 4 * x) * WEEK, completedVisits: x + 1, visitValueCents: (x + 1) * 5_000 }) };
    });
    const fit = fitOrganizationModels(regulars, NOW)!.bgnbd;
    // Without the bound the simplex crawls along the ridge for its whole budget (4 × 5,000 iterations, measured
    // 15,000); with it, the search stops as soon as a parameter passes 1e6, far outside what the recompute accepts.
    expect(Math.max(fit.r, fit.alpha, fit.a, fit.b)).toBeGreaterThan(BG_NBD_ABANDON_ABOVE);
    expect(fit.iterations).toBeLessThan(500);
    const capped = fitBgNbd(regulars.map((p) => repeatHistory(p.features, NOW)!), { maxParameter: 1e3 });
    expect(Math.max(capped.r, capped.alpha, capped.a, capped.b)).toBeGreaterThan(1e3);
    expect(capped.iterations).toBeLessThan(fit.iterations);
  });
});
