import { DEFAULT_SCORING_SETTINGS } from 'src/scoring/domain/scoring-settings';
import { organizationScoringSettings } from 'src/scoring/organization-settings';

describe('organizationScoringSettings', () => {
  it('returns the defaults without a scoring object', () => {
    expect(organizationScoringSettings({})).toEqual(DEFAULT_SCORING_SETTINGS);
    expect(organizationScoringSettings(null)).toEqual(DEFAULT_SCORING_SETTINGS);
    expect(organizationScoringSettings({ scoring: 'x' })).toEqual(DEFAULT_SCORING_SETTINGS);
  });

  it('accepts the short names and the full field names, ignoring junk', () => {
    const s = organizationScoringSettings({
      scoring: { activeDays: 20, dormantDays: 60, halfLifeDays: 90, riskHighFrom: 70, unknown: 5, riskMediumFrom: 'x', declineDropFraction: -1 },
    });
    expect(s).toMatchObject({ activeWithinDays: 20, atRiskAfterDays: 60, decayHalfLifeDays: 90, riskHighFrom: 70 });
    expect(s.riskMediumFrom).toBe(DEFAULT_SCORING_SETTINGS.riskMediumFrom);
    expect(s.declineDropFraction).toBe(DEFAULT_SCORING_SETTINGS.declineDropFraction);
    expect(s).not.toHaveProperty('unknown');
  });
});
