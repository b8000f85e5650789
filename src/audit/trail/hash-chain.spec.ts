import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { AuditAction } from 'src/audit/trail/audit-action';
import { canonicalContent, chainHash, ChainVerifier, contentHash, GENESIS_HASH } from 'src/audit/trail/hash-chain';
import { AuditEventContent, AuditEventRow } from 'src/audit/trail/audit-event';

const ORG = '3f2b8c1e-5a4d-4e6f-9a7b-1c2d3e4f5a6b';

function event(i: number, overrides: Partial<AuditEventContent> = {}): AuditEventContent {
  return {
    organizationId: ORG,
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    occurredAt: new Date(Date.UTC(2026, 10, 24, 12, 0, i)),
    actorType: 'user',
    actorId: '11111111-2222-4333-8444-555555555555',
    actorRole: 'clinician',
    action: AuditAction.Read,
    resource: 'patient',
    method: 'GET',
    route: '/api/v1/patients/:organizationId/profile/:patientId',
    patientIds: ['aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'],
    query: { limit: '20', sort: 'name' },
    outcome: 'success',
    statusCode: 200,
    requestId: `req-${i}`,
    ip: '10.0.0.1',
    userAgent: 'test',
    ...overrides,
  };
}

/** A chain as audit_append() builds it. */
function chain(n: number): AuditEventRow[] {
  const rows: AuditEventRow[] = [];
  let prev: Buffer = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const e = event(i);
    const hash = chainHash(prev, i, contentHash(e));
    rows.push({ ...e, seq: i, prevHash: prev, hash });
    prev = hash;
  }
  return rows;
}

function verify(rows: AuditEventRow[], head = rows.length ? { lastSeq: rows[rows.length - 1].seq, lastHash: rows[rows.length - 1].hash } : null) {
  const v = new ChainVerifier();
  for (const r of rows) if (!v.push(r)) break;
  return v.finish(head);
}

describe('audit hash chain', () => {
  it('chainHash is sha256(prev || int8 big-endian seq || content), as audit_append computes it', () => {
    const content = createHash('sha256').update('x').digest();
    const expected = createHash('sha256')
      .update(Buffer.concat([GENESIS_HASH, Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]), content]))
      .digest();
    expect(chainHash(GENESIS_HASH, 1, content).equals(expected)).toBe(true);
  });

  it('canonical content does not depend on query key order or UUID case', () => {
    const a = event(1, { query: { sort: 'name', limit: '20' } });
    const b = event(1, { query: { limit: '20', sort: 'name' }, organizationId: ORG.toUpperCase(), patientIds: ['AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE'] });
    expect(canonicalContent(a)).toBe(canonicalContent(b));
  });

  it('every column is part of the content', () => {
    const base = contentHash(event(1));
    const changes: Partial<AuditEventContent>[] = [
      { organizationId: '3f2b8c1e-5a4d-4e6f-9a7b-1c2d3e4f5a6c' }, { id: '00000000-0000-4000-8000-000000000099' },
      { occurredAt: new Date(Date.UTC(2026, 10, 24, 12, 0, 1, 1)) }, { actorType: 'api_key' }, { actorId: null }, { actorRole: 'admin' },
      { action: AuditAction.Export }, { resource: 'journey' }, { method: 'POST' }, { route: '/x' }, { patientIds: [] },
      { query: { limit: '21', sort: 'name' } }, { outcome: 'denied' }, { statusCode: 403 }, { requestId: 'other' }, { ip: '10.0.0.2' }, { userAgent: null },
    ];
    for (const c of changes) expect(contentHash(event(1, c)).equals(base)).toBe(false);
  });

  it('an intact chain verifies, an empty one too', () => {
    expect(verify(chain(25))).toEqual({ valid: true, eventsChecked: 25, firstBroken: null });
    expect(verify([], null)).toEqual({ valid: true, eventsChecked: 0, firstBroken: null });
  });

  it('reports a changed column at its row', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.constantFrom<Partial<AuditEventContent>>({ patientIds: [] }, { statusCode: 500 }, { ip: '1.2.3.4' }), (at, change) => {
        const rows = chain(20);
        rows[at - 1] = { ...rows[at - 1], ...change };
        const v = verify(rows);
        expect(v.valid).toBe(false);
        expect(v.firstBroken).toEqual({ id: rows[at - 1].id, occurredAt: rows[at - 1].occurredAt, seq: at, reason: 'content_altered' });
        expect(v.eventsChecked).toBe(at);
      }),
    );
  });

  it('reports a removed row at the next one, a rewritten prev_hash, and rows missing at the end', () => {
    const rows = chain(10);
    expect(verify([...rows.slice(0, 4), ...rows.slice(5)], { lastSeq: 10, lastHash: rows[9].hash }).firstBroken).toMatchObject({ seq: 6, reason: 'sequence_gap' });
    const forged = rows.map((r) => ({ ...r }));
    forged[3].prevHash = Buffer.alloc(32, 1);
    expect(verify(forged).firstBroken).toMatchObject({ seq: 4, reason: 'prev_hash_mismatch' });
    expect(verify(rows.slice(0, 8), { lastSeq: 10, lastHash: rows[9].hash })).toEqual({
      valid: false,
      eventsChecked: 8,
      firstBroken: { id: null, occurredAt: null, seq: 9, reason: 'events_missing_at_end' },
    });
  });

  it('after a retirement starts from the first kept event, given the last retired one; a forged start breaks', () => {
    const rows = chain(12);
    const kept = rows.slice(7);
    const head = { lastSeq: 12, lastHash: rows[11].hash };
    const from = (start: { seq: number; hash: Buffer }) => {
      const v = new ChainVerifier(start);
      for (const r of kept) if (!v.push(r)) break;
      return v.finish(head);
    };
    expect(from({ seq: 7, hash: rows[6].hash })).toEqual({ valid: true, eventsChecked: 5, firstBroken: null });
    expect(from({ seq: 7, hash: Buffer.alloc(32, 3) }).firstBroken).toMatchObject({ seq: 8, reason: 'prev_hash_mismatch' });
    expect(from({ seq: 6, hash: rows[5].hash }).firstBroken).toMatchObject({ seq: 8, reason: 'sequence_gap' });
    const everything = new ChainVerifier({ seq: 12, hash: rows[11].hash });
    expect(everything.finish(head)).toEqual({ valid: true, eventsChecked: 0, firstBroken: null });
  });

  it('a row re-hashed by a forger still breaks the link to its successor', () => {
    const rows = chain(5);
    const changed = { ...rows[1], patientIds: [] };
    changed.hash = chainHash(changed.prevHash, 2, contentHash(changed));
    rows[1] = changed;
    expect(verify(rows).firstBroken).toMatchObject({ seq: 3, reason: 'prev_hash_mismatch' });
  });
});
