import { FEATURE_COLUMNS, featureRowFromValues } from 'src/scoring/features/feature-row';

describe('featureRowFromValues', () => {
  it('reads every FeatureRow field from its position in FEATURE_COLUMNS', () => {
    const values = FEATURE_COLUMNS.map((_, i) => i);
    const row = featureRowFromValues(values) as unknown as Record<string, number>;
    expect(Object.keys(row).sort()).toEqual([...FEATURE_COLUMNS].sort());
    FEATURE_COLUMNS.forEach((name, i) => expect(row[name]).toBe(i));
    expect(new Set(FEATURE_COLUMNS).size).toBe(FEATURE_COLUMNS.length);
  });
});
