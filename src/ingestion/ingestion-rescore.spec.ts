import { IngestionService } from 'src/ingestion/ingestion.service';
import type { ScoringService } from 'src/scoring/scoring.service';

/** The rescore after a commit reports what it did: the FHIR import's summary counts rescored and stale patients by it. */
describe('IngestionService.rescore', () => {
  const service = (scoring?: Partial<ScoringService>): IngestionService =>
    new IngestionService(
      null as never,
      null as never,
      null as never,
      null as never,
      null as never,
      null as never,
      scoring as ScoringService | undefined,
    );

  it('returns the number of patients rescored', async () => {
    const calls: string[][] = [];
    const s = service({ recomputePatients: (_org: string, ids: string[]) => (calls.push(ids), Promise.resolve(undefined as never)) });
    await expect(s.rescore('org', ['a', 'b', 'c'])).resolves.toBe(3);
    expect(calls).toEqual([['a', 'b', 'c']]);
  });

  it('returns 0 when the recompute fails (the patients stay stale) and when there is nothing to do or no scoring', async () => {
    const failing = service({ recomputePatients: () => Promise.reject(new Error('database unavailable (timeout)')) });
    await expect(failing.rescore('org', ['a', 'b'])).resolves.toBe(0);
    await expect(service({ recomputePatients: () => Promise.reject(new Error('never called')) }).rescore('org', [])).resolves.toBe(0);
    await expect(service(undefined).rescore('org', ['a'])).resolves.toBe(0);
  });
});
