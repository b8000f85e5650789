import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CONTRACT_DIR, contractValidator } from 'test/utils/contract';
import { itUnless } from 'test/utils/skip-unless';

/** The product's contract folder, beside the repository in the team's layout (absent from a plain clone). */
const SHARED_CONTRACT_DIR = process.env.SHARED_CONTRACT_DIR ?? resolve(__dirname, '../../../shared/contract');
const schemas = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.schema.json')).sort();

describe('the vendored response contract (test/fixtures/contract)', () => {
  it('holds the seven schemas, each compiling', () => {
    expect(schemas(CONTRACT_DIR)).toEqual([
      'common.schema.json',
      'engagement-overview.schema.json',
      'journey.schema.json',
      'opportunities.schema.json',
      'profile.schema.json',
      'profiles.schema.json',
      'risk-summary.schema.json',
    ]);
    for (const file of schemas(CONTRACT_DIR)) expect(typeof contractValidator(file)).toBe('function');
  });

  itUnless(
    existsSync(SHARED_CONTRACT_DIR) ? null : `no ${SHARED_CONTRACT_DIR} beside the repository (set SHARED_CONTRACT_DIR to compare)`,
    'equals the product contract folder byte for byte',
    () => {
      expect(schemas(CONTRACT_DIR)).toEqual(schemas(SHARED_CONTRACT_DIR));
      const differing = schemas(SHARED_CONTRACT_DIR).filter(
        (f) => !readFileSync(resolve(CONTRACT_DIR, f)).equals(readFileSync(resolve(SHARED_CONTRACT_DIR, f))),
      );
      expect(differing).toEqual([]);
    },
  );
});
