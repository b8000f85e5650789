import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FhirNdjsonImport, ImportSummary } from 'src/fhir-import/fhir-ndjson-import';
import { collectFhirFiles, localFile } from 'src/fhir-import/local-files';
import { createOrganization } from 'test/auth/auth-fixtures';
import { BULK_FILES, bulkFile, resources } from 'test/fhir-import/fhir-fixtures';
import { createTestApp, TestApp } from 'test/utils/test-app';

/** The work of `npm run fhir:import -- --org <slug> <folder>` (src/cli/fhir-import.ts is its shell): a Bulk export folder. */
describe('FHIR import from local files (npm run fhir:import)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pj-fhir-'));
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    for (const type of BULK_FILES) writeFileSync(join(dir, `${type}.000.ndjson`), bulkFile(type));
    writeFileSync(join(dir, 'log.ndjson'), '{"eventId":"kickoff"}\n');
    t = await createTestApp();
    org = (await createOrganization(t.db)).id;
  }, 60_000);
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (): Promise<{ summary: ImportSummary; outcomes: string[]; progress: number[] }> => {
    const files = collectFhirFiles([dir]);
    expect(files).toEqual({ bundles: [], ndjson: BULK_FILES.map((f) => join(dir, `${f}.000.ndjson`)).sort() });
    const outcomes: string[] = [];
    const progress: number[] = [];
    const summary = await t.app.get(FhirNdjsonImport).run(
      org,
      files.ndjson.map(localFile),
      'fhir',
      { type: null, id: null, role: 'cli' },
      async (l) => void outcomes.push(l),
      async (f) => void progress.push(f),
    );
    return { summary, outcomes, progress };
  };

  it('imports the folder with exact counts (log.ndjson left out), then nothing changes the second time', async () => {
    const count = (type: string): number => resources(bulkFile(type)).length;
    const first = await run();
    expect(first.summary.counts).toEqual({
      Patient: { created: 13 },
      Condition: { created: count('Condition') },
      AllergyIntolerance: { created: count('AllergyIntolerance') },
      Encounter: { created: count('Encounter') },
      MedicationRequest: { created: count('MedicationRequest') },
      Immunization: { skipped: count('Immunization') },
    });
    expect(first.outcomes).toEqual([]);
    expect(first.progress.at(-1)).toBe(1);
    expect(first.progress.every((p, i) => i === 0 || p >= first.progress[i - 1])).toBe(true);

    const second = await run();
    expect(
      Object.values(second.summary.counts)
        .flatMap((c) => Object.keys(c))
        .sort(),
    ).toEqual(['skipped', 'unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect(second.summary.patients_rescored).toBe(0);
    const events = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1 AND resource = 'fhir-import'`,
      [org],
    );
    expect(events[0].n).toBeGreaterThan(0);
  }, 300_000);
});
