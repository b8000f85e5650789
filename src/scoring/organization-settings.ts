import { DEFAULT_SCORING_SETTINGS, ScoringSettings, scoringSettings, scoringSettingsProblems } from 'src/scoring/domain/scoring-settings';

/** Short names accepted in `organizations.settings.scoring` beside the full `ScoringSettings` field names. */
export const SCORING_SETTING_ALIASES: Readonly<Record<string, keyof ScoringSettings>> = {
  activeDays: 'activeWithinDays',
  dormantDays: 'atRiskAfterDays',
  atRiskDays: 'atRiskAfterDays',
  halfLifeDays: 'decayHalfLifeDays',
};

const fieldOf = (key: string): keyof ScoringSettings | undefined =>
  SCORING_SETTING_ALIASES[key] ?? (Object.hasOwn(DEFAULT_SCORING_SETTINGS, key) ? (key as keyof ScoringSettings) : undefined);

/**
 * The scoring settings of an organization: the domain defaults overridden by `organizations.settings.scoring`,
 * e.g. `{ "scoring": { "activeDays": 30, "dormantDays": 90, "halfLifeDays": 180 } }` (or the full field names,
 * `activeWithinDays`, `atRiskAfterDays`, `decayHalfLifeDays`, ...). Unknown keys and non-numbers are ignored, and
 * values that are out of range or contradict each other are repaired (`scoringSettings`; docs/scoring.md).
 */
export function organizationScoringSettings(organizationSettings: unknown): ScoringSettings {
  const scoring =
    organizationSettings && typeof organizationSettings === 'object'
      ? (organizationSettings as Record<string, unknown>).scoring
      : undefined;
  if (!scoring || typeof scoring !== 'object') return scoringSettings();
  const overrides: Partial<ScoringSettings> = {};
  for (const [key, value] of Object.entries(scoring as Record<string, unknown>)) {
    const field = fieldOf(key);
    if (field && typeof value === 'number' && Number.isFinite(value)) overrides[field] = value;
  }
  return scoringSettings(overrides);
}

/** A problem with one key of a scoring-settings object, named as the caller wrote it. */
export interface ScoringSettingsError {
  field: string;
  message: string;
}

/**
 * Checks scoring overrides as a caller sends them (the settings API): an object whose keys are setting names or
 * aliases, each a finite number; merged over the defaults, nothing `scoringSettingsProblems` names. Errors name
 * the key the caller used (for a contradictory pair, the one they sent, or the first of the two if both).
 */
export function checkScoringOverrides(raw: unknown): { overrides: Partial<ScoringSettings>; errors: ScoringSettingsError[] } {
  const errors: ScoringSettingsError[] = [];
  const overrides: Partial<ScoringSettings> = {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { overrides, errors: [{ field: '', message: 'must be an object' }] };
  const keyFor = new Map<keyof ScoringSettings, string>();
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const field = fieldOf(key);
    if (!field) errors.push({ field: key, message: 'is not a scoring setting' });
    else if (keyFor.has(field)) errors.push({ field: key, message: `sets the same setting as ${keyFor.get(field)}` });
    else if (typeof value !== 'number' || !Number.isFinite(value)) errors.push({ field: key, message: 'must be a finite number' });
    else {
      overrides[field] = value;
      keyFor.set(field, key);
    }
  }
  if (errors.length > 0) return { overrides, errors };
  const merged: ScoringSettings = { ...DEFAULT_SCORING_SETTINGS, ...overrides };
  for (const p of scoringSettingsProblems(merged)) {
    const named = keyFor.has(p.field) ? p.field : p.related && keyFor.has(p.related) ? p.related : p.field;
    const other = named === p.field ? p.related : p.field;
    const message = other && named !== p.field ? `must be greater than ${keyFor.get(other) ?? other} (${merged[other]})` : p.message;
    errors.push({ field: keyFor.get(named) ?? named, message });
  }
  return { overrides, errors };
}
