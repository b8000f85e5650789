import fc from 'fast-check';
import { ProblemException } from 'src/common/problem/problem';
import { CursorState, decodeCursor, encodeCursor, PROFILE_SORTS, SORT_ORDERS, STATUS_FILTERS } from 'src/patients/profile-list';
import { resolveSpec } from 'src/patients/patient-list.service';
import { thrown } from 'test/utils/thrown';

const ID = '7d3c2a4e-1b2f-4c3d-8e9f-0a1b2c3d4e5f';

const keyFor = (sort: string): string =>
  sort === 'name' ? 'ada lovelace' : sort === 'ltv' ? '12550' : sort === 'risk_score' ? '55.5' : '2026-11-21 12:00:00.123456+00';

describe('profile list cursors', () => {
  it('round-trip every sort, order, status, search and segment', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROFILE_SORTS),
        fc.constantFrom(...SORT_ORDERS),
        fc.constantFrom(...STATUS_FILTERS),
        fc.option(fc.string({ maxLength: 100 }), { nil: null }),
        fc.nat(),
        fc.boolean(),
        (sort, order, status, search, skipped, keyed) => {
          const state: CursorState = { sort, order, status, search, skipped, after: keyed ? { segment: 'keyed', key: keyFor(sort), id: ID } : { segment: 'unkeyed', key: null, id: ID } };
          const encoded = encodeCursor(state);
          expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
          expect(decodeCursor(encoded)).toEqual(state);
        },
      ),
    );
  });

  it.each([
    ['not base64 json', 'zzz'],
    ['wrong version', Buffer.from(JSON.stringify([2, 'name', 'asc', 'all', null, 0, 0, 'a', ID])).toString('base64url')],
    ['unknown sort', Buffer.from(JSON.stringify([1, 'age', 'asc', 'all', null, 0, 0, 'a', ID])).toString('base64url')],
    ['ltv key not an integer', Buffer.from(JSON.stringify([1, 'ltv', 'asc', 'all', null, 0, 0, 'x; drop', ID])).toString('base64url')],
    ['ltv key out of range', Buffer.from(JSON.stringify([1, 'ltv', 'asc', 'all', null, 0, 0, '9999999999', ID])).toString('base64url')],
    ['timestamp key malformed', Buffer.from(JSON.stringify([1, 'last_appointment', 'asc', 'all', null, 0, 0, 'yesterday', ID])).toString('base64url')],
    ['id not a uuid', Buffer.from(JSON.stringify([1, 'name', 'asc', 'all', null, 0, 0, 'a', 'x'])).toString('base64url')],
    ['negative position', Buffer.from(JSON.stringify([1, 'name', 'asc', 'all', null, -1, 0, 'a', ID])).toString('base64url')],
  ])('refuses a cursor with %s as a 400 naming cursor', (_why, raw) => {
    expect(() => decodeCursor(raw)).toThrow(ProblemException);
    const err = thrown(() => decodeCursor(raw)) as ProblemException;
    expect(err.status).toBe(400);
    expect(err.errors?.[0]).toMatchObject({ in: 'query', field: 'cursor' });
  });
});

describe('resolveSpec', () => {
  it('applies the defaults: limit 100, offset 0, status all, sort name ascending', () => {
    expect(resolveSpec({})).toEqual({
      spec: { sort: 'name', order: 'asc', status: null, search: null, limit: 100, offset: 0, after: null },
      skipped: 0,
      statusFilter: 'all',
    });
  });

  it.each([
    ['ltv', 'desc'],
    ['last_appointment', 'desc'],
    ['risk_score', 'desc'],
  ] as const)('sort=%s defaults to %s', (sort, order) => {
    expect(resolveSpec({ sort }).spec.order).toBe(order);
  });

  it('lower-cases the search prefix and maps the status filter', () => {
    const { spec } = resolveSpec({ search: 'AdA', status: 'at_risk', offset: 40, limit: 20 });
    expect(spec).toMatchObject({ search: 'ada', status: 'at_risk', offset: 40, limit: 20 });
  });

  it('takes the list from the cursor and refuses contradicting parameters', () => {
    const cursor = encodeCursor({ sort: 'ltv', order: 'desc', status: 'dormant', search: null, skipped: 200, after: { segment: 'keyed', key: '100', id: ID } });
    const r = resolveSpec({ cursor, limit: 50 });
    expect(r.spec).toMatchObject({ sort: 'ltv', order: 'desc', status: 'dormant', offset: 0, limit: 50, after: { key: '100', id: ID } });
    expect(r.skipped).toBe(200);
    expect(resolveSpec({ cursor, sort: 'ltv', status: 'dormant' }).spec.sort).toBe('ltv');
    expect(() => resolveSpec({ cursor, sort: 'name' })).toThrow(ProblemException);
    expect(() => resolveSpec({ cursor, offset: 10 })).toThrow(/offset/);
  });
});
