import { riskScore } from 'src/scoring/domain/risk-score';
import { engagementScore } from 'src/scoring/domain/engagement-score';
import { classifyStatus } from 'src/scoring/domain/patient-status';
import { emptyFeatures } from 'src/scoring/domain/patient-features';
import { DEFAULT_SCORING_SETTINGS, scoringSettings, scoringSettingsProblems } from 'src/scoring/domain/scoring-settings';
import { lastContact } from 'src/scoring/domain/risk-components';
import { organizationScoringSettings } from 'src/scoring/organization-settings';

const NOW = Date.UTC(2026, 10, 24, 12);
const DAY = 86_400_000;

describe('scoring settings: contradictions are refused by the check and repaired when stored', () => {
  it('names each problem (the defaults have none)', () => {
    expect(scoringSettingsProblems({ ...DEFAULT_SCORING_SETTINGS })).toEqual([]);
    const fields = (over: object): string[] => scoringSettingsProblems({ ...DEFAULT_SCORING_SETTINGS, ...over }).map((p) => p.field);
    expect(fields({ activeWithinDays: 90 })).toEqual(['activeWithinDays']);
    expect(fields({ activeWithinDays: 89.9 })).toEqual([]);
    expect(fields({ decayHalfLifeDays: 0, declinePriorWindowDays: -1 })).toEqual(['declinePriorWindowDays', 'decayHalfLifeDays']);
    expect(fields({ riskMediumFrom: 60 })).toEqual(['riskMediumFrom']);
    expect(fields({ declineDropFraction: 1.01, referralValueShare: -0.1 })).toEqual(['declineDropFraction', 'referralValueShare']);
    expect(fields({ fitSampleSize: 49 })).toEqual(['fitSampleSize']);
    expect(fields({ activeWithinDays: NaN })).toEqual(['activeWithinDays']);
  });

  it('repairs stored contradictions: the pair back to its defaults, or every override when that is not enough', () => {
    // activeDays ≥ dormantDays, both overridden: both back to the defaults, the other overrides kept.
    expect(organizationScoringSettings({ scoring: { activeDays: 90, dormantDays: 60, halfLifeDays: 90 } })).toEqual({
      ...DEFAULT_SCORING_SETTINGS,
      decayHalfLifeDays: 90,
    });
    // Zeros back to their defaults.
    expect(scoringSettings({ decayHalfLifeDays: 0, activeWithinDays: 0, atRiskAfterDays: 0 })).toEqual({ ...DEFAULT_SCORING_SETTINGS });
    // Valid overrides stay.
    expect(scoringSettings({ activeWithinDays: 10, atRiskAfterDays: 15 })).toMatchObject({ activeWithinDays: 10, atRiskAfterDays: 15 });
    // Unknown keys are ignored.
    expect(scoringSettings({ nonsense: 3 } as never)).toEqual({ ...DEFAULT_SCORING_SETTINGS });
  });

  it('never divides by zero: a zero span between the thresholds, even passed by hand, gives finite scores', () => {
    const equal = { ...DEFAULT_SCORING_SETTINGS, activeWithinDays: 60, atRiskAfterDays: 60 };
    const f = (days: number) => emptyFeatures({ lastEngagementAt: NOW - days * DAY, registeredAt: NOW - 400 * DAY });
    // (d - 60) / (2 · (60 - 60)) would be ±Infinity or NaN: below the threshold 0, from it on 1.
    expect(lastContact(f(59), NOW, equal).value).toBe(0);
    expect(lastContact(f(60), NOW, equal).value).toBe(1);
    expect(lastContact(f(61), NOW, equal).value).toBe(1);
    const zeros = { ...DEFAULT_SCORING_SETTINGS, activeWithinDays: 0, atRiskAfterDays: 0, decayHalfLifeDays: 0, declineRecentWindowDays: 0 };
    for (const days of [0, 45, 200]) {
      expect(Number.isFinite(riskScore(f(days), NOW, zeros).score)).toBe(true);
      expect(Number.isFinite(engagementScore(f(days), NOW, zeros))).toBe(true);
      expect(['active', 'dormant', 'at_risk']).toContain(classifyStatus(f(days), NOW, zeros));
    }
  });
});
