import { ScoringSettings, scoringSettings } from 'src/scoring/domain/scoring-settings';

/** Short names accepted in `organizations.settings.scoring` beside the full `ScoringSettings` field names. */
const ALIASES: Readonly<Record<string, keyof ScoringSettings>> = {
  activeDays: 'activeWithinDays',
  dormantDays: 'atRiskAfterDays',
  atRiskDays: 'atRiskAfterDays',
  halfLifeDays: 'decayHalfLifeDays',
};

/**
 * The scoring settings of an organization: the domain defaults overridden by `organizations.settings.scoring`,
 * e.g. `{ "scoring": { "activeDays": 30, "dormantDays": 90, "halfLifeDays": 180 } }` (or the full field names,
 * `activeWithinDays`, `atRiskAfterDays`, `decayHalfLifeDays`, ...). Unknown keys and non-numbers are ignored.
 */
export function organizationScoringSettings(organizationSettings: unknown): ScoringSettings {
  const defaults = scoringSettings();
  const scoring =
    organizationSettings && typeof organizationSettings === 'object'
      ? (organizationSettings as Record<string, unknown>).scoring
      : undefined;
  if (!scoring || typeof scoring !== 'object') return defaults;
  const overrides: Partial<ScoringSettings> = {};
  for (const [key, value] of Object.entries(scoring as Record<string, unknown>)) {
    const field = ALIASES[key] ?? (key in defaults ? (key as keyof ScoringSettings) : undefined);
    if (field && typeof value === 'number' && Number.isFinite(value) && value >= 0) overrides[field] = value;
  }
  return scoringSettings(overrides);
}
