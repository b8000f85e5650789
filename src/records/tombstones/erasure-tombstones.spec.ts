import { createHmac } from 'node:crypto';
import { TombstoneHasher } from 'src/records/tombstones/erasure-tombstones';

const ORG_A = '3f2b8c1e-5a4d-4e6f-9a7b-1c2d3e4f5a6b';
const ORG_B = '9f2b8c1e-5a4d-4e6f-9a7b-1c2d3e4f5a6b';

describe('erasure tombstone hashes', () => {
  const secret = Buffer.alloc(32, 7);
  const hasher = new TombstoneHasher(secret);

  it('is HMAC-SHA256 under a key per organization over source NUL external id', () => {
    const orgKey = createHmac('sha256', secret).update(`erasure-tombstone:${ORG_A}`).digest();
    const expected = createHmac('sha256', orgKey).update('ehr\u0000pat-1').digest();
    expect(hasher.hash(ORG_A, { source: 'ehr', externalId: 'pat-1' }).equals(expected)).toBe(true);
    expect(hasher.hash(ORG_A.toUpperCase(), { source: 'ehr', externalId: 'pat-1' }).equals(expected)).toBe(true);
  });

  it('differs by organization, by key, and by where source ends and the id begins; names nothing readable', () => {
    const h = (org: string, source: string, externalId: string, s = secret): string => new TombstoneHasher(s).hash(org, { source, externalId }).toString('hex');
    const base = h(ORG_A, 'ehr', 'pat-1');
    expect(h(ORG_B, 'ehr', 'pat-1')).not.toBe(base);
    expect(h(ORG_A, 'ehr', 'pat-1', Buffer.alloc(32, 8))).not.toBe(base);
    expect(h(ORG_A, 'ehrp', 'at-1')).not.toBe(base);
    expect(h(ORG_A, 'ehr', 'pat-2')).not.toBe(base);
    expect(base).toHaveLength(64);
    expect(Buffer.from(base, 'hex').toString('latin1')).not.toContain('pat-1');
  });
});
