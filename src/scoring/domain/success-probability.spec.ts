import fc from 'fast-check';
import { probabilityAlive } from 'src/scoring/domain/bg-nbd';
import { emptyFeatures, type PatientFeatures } from 'src/scoring/domain/patient-features';
import { repeatHistory, type ScoringModels } from 'src/scoring/domain/scoring-models';
import { aliveProbability, CONSENT_FACTORS, preferredChannelReplyRate, successProbability } from 'src/scoring/domain/success-probability';
import { anyFeatures, NOW } from 'test/utils/patient-features.arbitrary';
import { DAY_MS } from 'src/common/time/calendar';

const daysAgo = (days: number): number => NOW - days * DAY_MS;
const MODELS: ScoringModels = { bgnbd: { r: 0.8, alpha: 6, a: 0.5, b: 4 }, gammaGamma: { p: 6, q: 4, v: 30_000 } };
const patient = (extra: Partial<PatientFeatures> = {}): PatientFeatures =>
  emptyFeatures({ firstVisitAt: daysAgo(400), lastVisitAt: daysAgo(120), completedVisits: 6, marketingConsent: true, ...extra });

describe('successProbability', () => {
  it('is P(alive) × channel factor × consent factor', () => {
    const features = patient({ preferredChannelOutreach: 4, preferredChannelReplies: 3, decayedOutreach: 4, decayedReplies: 3 });
    const history = repeatHistory(features, NOW);
    expect(history).not.toBeNull();
    const alive = probabilityAlive(MODELS.bgnbd, history!);
    const overall = (3 + 1.4) / (4 + 2);
    const rate = (3 + 2 * overall) / (4 + 2);
    expect(preferredChannelReplyRate(features)).toBeCloseTo(rate, 12);
    expect(successProbability(features, NOW, MODELS)).toBeCloseTo(alive * (0.25 + 0.75 * rate), 12);
  });

  it('is lowered by missing consent: reminders only, then nothing', () => {
    const withConsent = successProbability(patient(), NOW, MODELS);
    const remindersOnly = successProbability(patient({ marketingConsent: false, appointmentReminders: true }), NOW, MODELS);
    const none = successProbability(patient({ marketingConsent: false, appointmentReminders: false }), NOW, MODELS);
    expect(remindersOnly).toBeCloseTo(withConsent * CONSENT_FACTORS.remindersOnly, 12);
    expect(none).toBeCloseTo(withConsent * CONSENT_FACTORS.none, 12);
  });

  it('rises with the reply rate on the preferred channel', () => {
    const silent = successProbability(patient({ preferredChannelOutreach: 10, preferredChannelReplies: 0 }), NOW, MODELS);
    const responsive = successProbability(patient({ preferredChannelOutreach: 10, preferredChannelReplies: 9 }), NOW, MODELS);
    expect(responsive).toBeGreaterThan(silent);
  });

  it('without models falls back to the visit gap, and to 0.5 without visits', () => {
    // Usual interval 56 days, 120 days silent: gap 2.14 → 1 / (1 + 1.14).
    expect(aliveProbability(patient(), NOW, null)).toBeCloseTo(1 / (1 + (120 / 56 - 1)), 10);
    expect(aliveProbability(patient({ lastVisitAt: daysAgo(20) }), NOW, null)).toBe(1);
    expect(aliveProbability(emptyFeatures(), NOW, MODELS)).toBe(0.5);
  });

  it('is always a finite probability', () => {
    fc.assert(
      fc.property(anyFeatures, fc.boolean(), (features, withModels) => {
        const p = successProbability(features, NOW, withModels ? MODELS : null);
        return Number.isFinite(p) && p >= 0 && p <= 1;
      }),
      { numRuns: 2000 },
    );
  });
});
