import { PreparePool } from 'src/fhir-import/fhir-prepare-pool';

const lines = [
  '',
  'not json',
  JSON.stringify({ resourceType: 'Patient', id: 'p1', name: [{ family: 'Lee', given: ['Ada'] }], birthDate: '1984-13-40' }),
  JSON.stringify({ resourceType: 'Patient', id: 'p2', name: [{ family: 'Roe' }] }),
  JSON.stringify({ resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p2' } }),
  JSON.stringify({ resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' } }),
];

/** The worker threads give exactly what the calling thread gives, in the order of the lines and batches. */
describe('PreparePool', () => {
  it('prepares lines in worker threads as in the calling thread, batch by batch in order', async () => {
    const inline = new PreparePool(0);
    const pooled = new PreparePool(2);
    try {
      expect(pooled.size).toBe(2);
      const want = await Promise.all([inline.prepare(lines, 'patients', 'ehr'), inline.prepare(lines, 'others', 'ehr')]);
      const got = await Promise.all([pooled.prepare(lines, 'patients', 'ehr'), pooled.prepare(lines, 'others', 'ehr')]);
      expect(got).toEqual(want);
      // The first pass: patients only (the bad date rejected by the validator); the second: the rest, the line that is
      // not JSON reported there (it does not look like a Patient).
      expect(want[0].map((r) => (r === null || r === 'not-json' ? r : [r.id, r.mapped.kind]))).toEqual([
        null,
        null,
        ['p1', 'invalid'],
        ['p2', 'patient'],
        null,
        null,
      ]);
      expect(want[1].map((r) => (r === null || r === 'not-json' ? r : [r.id, r.mapped.kind]))).toEqual([
        null,
        'not-json',
        null,
        null,
        ['e1', 'invalid'],
        ['o1', 'skipped'],
      ]);
    } finally {
      await Promise.all([inline.close(), pooled.close()]);
    }
  }, 120_000);
});
