import { verifyOrganizationBySlug } from 'src/audit/trail/chain-verification';
import { Role } from 'src/organizations/organizations.enums';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { AuditTestApp, createAuditTestApp } from 'test/audit/audit-test-app';
import { addPatients, addScoredPatients, auditRows } from 'test/audit/audit-fixtures';

const CLIENTS = 50;
const READS = 2000;

describe('audit trail: the hash chain and reading it', () => {
  let t: AuditTestApp;
  let org: { id: string; slug: string };
  let patientIds: string[];
  let reader: string;
  let auditor: string;
  /** The status of each of the READS reads made in beforeAll (every test below reads their events). */
  const statuses: number[] = [];

  beforeAll(async () => {
    t = await createAuditTestApp({ env: { DATABASE_POOL_SIZE: '20', RATE_LIMIT_LIMIT: '1000000', RATE_LIMIT_IP_LIMIT: '1000000' } });
    org = await createOrganization(t.db);
    patientIds = await addScoredPatients(t.db, org.id, ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra']);
    reader = await memberToken(t, org.id, Role.FrontDesk);
    auditor = await memberToken(t, org.id, Role.Admin);
    const perClient = READS / CLIENTS;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        for (let i = 0; i < perClient; i++) {
          // The real profile routes; every other read is a single patient, so the events differ in their patient ids.
          const one = (c + i) % 2 === 0;
          const url = one ? `/api/v1/patients/${org.id}/profile/${patientIds[(c + i) % 4]}` : `/api/v1/patients/${org.id}/profiles`;
          const res = await t.inject({ method: 'GET', url, headers: { ...bearer(reader), 'x-request-id': `c${c}-r${i}` } });
          statuses.push(res.statusCode);
        }
      }),
    );
  }, 300_000);
  afterAll(async () => {
    await t.close();
  });

  const verify = async (orgId: string, token = auditor): Promise<{ valid: boolean; events_checked: number; first_broken: Record<string, unknown> | null }> => {
    const res = await t.inject({ method: 'GET', url: `/api/v1/audit/${orgId}/verify`, headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    return res.json();
  };

  it(`${READS} reads from ${CLIENTS} concurrent clients leave exactly ${READS} events with the right patient ids, and the chain verifies`, async () => {
    expect(statuses.filter((s) => s === 200)).toHaveLength(READS);

    const rows = await auditRows(t.db, org.id);
    expect(rows).toHaveLength(READS);
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: READS }, (_, i) => i + 1));
    expect(new Set(rows.map((r) => r.request_id)).size).toBe(READS);
    // Each event's patient ids, against what its request read: one patient, or the list's four.
    const idsOf = (requestId: string | null): string[] => {
      const [, c, i] = /^c(\d+)-r(\d+)$/.exec(requestId ?? '')!.map(Number);
      return (c + i) % 2 === 0 ? [patientIds[(c + i) % 4]] : [...patientIds].sort();
    };
    const seen = rows.map((r) => ({ request: r.request_id, patients: [...r.patient_ids].sort() }));
    expect(seen).toEqual(rows.map((r) => ({ request: r.request_id, patients: idsOf(r.request_id) })));
    expect(seen.filter((s) => s.patients.length === 1)).toHaveLength(READS / 2);
    expect(await verify(org.id)).toEqual({ valid: true, events_checked: READS, first_broken: null });
    const cli = await verifyOrganizationBySlug(t.db.url, org.slug);
    expect(cli).toEqual({ organization_id: org.id, valid: true, events_checked: READS, first_broken: null });
  });

  it('the batch append (the reads above) runs its statements with generic plans, so its INSERT is not planned on every call', async () => {
    // With `auto`, its INSERT over generate_series(1, n) kept a custom plan, planned again at each call (a third of it).
    const [fn] = await t.db.query<{ config: string[] | null }>(`SELECT proconfig AS config FROM pg_proc WHERE proname = 'audit_append_batch'`);
    expect(fn.config).toEqual(expect.arrayContaining(['plan_cache_mode=force_generic_plan', 'search_path=pg_catalog, public, pg_temp']));
  });

  describe('GET /audit/:organizationId/events', () => {
    const list = (query: string, token = auditor): ReturnType<AuditTestApp['inject']> =>
      t.inject({ method: 'GET', url: `/api/v1/audit/${org.id}/events${query}`, headers: bearer(token) });

    it('answers newest first with a keyset cursor that walks every event once', async () => {
      const first = await list('?limit=1000');
      expect(first.statusCode).toBe(200);
      const a = first.json();
      expect(a.events).toHaveLength(1000);
      expect(a.events[0].sequence).toBeGreaterThan(a.events[999].sequence);
      expect(typeof a.next_cursor).toBe('string');
      const seen = new Set<number>(a.events.map((e: { sequence: number }) => e.sequence));
      let cursor: string | null = a.next_cursor;
      while (cursor) {
        const page = (await list(`?limit=1000&cursor=${cursor}`)).json();
        for (const e of page.events) seen.add(e.sequence);
        cursor = page.next_cursor;
      }
      const total = (await auditRows(t.db, org.id)).length;
      expect(seen.size).toBe(total);
    });

    it('default page is 100; each event shows its patient ids and nothing more than the trail holds', async () => {
      const res = (await list('')).json();
      expect(res.events).toHaveLength(100);
      const e = res.events.find((x: { action: string }) => x.action === 'read');
      expect(Object.keys(e).sort()).toEqual(
        ['id', 'sequence', 'occurred_at', 'actor_type', 'actor_id', 'actor_role', 'action', 'resource', 'method', 'route', 'patient_ids', 'query', 'outcome', 'status_code', 'request_id', 'ip', 'user_agent', 'hash', 'prev_hash'].sort(),
      );
      expect(e.patient_ids).toHaveLength(1);
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('filters by patient ("who saw this record"), actor, action and time', async () => {
      const p = patientIds[1];
      const expected = (await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM audit_events WHERE organization_id = $1 AND $2 = ANY(patient_ids)`, [org.id, p]))[0].n;
      const byPatient = (await list(`?patient_id=${p}&limit=1000`)).json();
      expect(Number(expected)).toBeGreaterThan(0);
      expect(byPatient.events.length).toBe(Number(expected));
      for (const e of byPatient.events) expect(e.patient_ids).toContain(p);

      const reads = (await list('?action=read&limit=5')).json();
      expect(reads.events).toHaveLength(5);
      for (const e of reads.events) expect(e.action).toBe('read');

      const readerId = (await list('?limit=1')).json().events[0].actor_id;
      const byActor = (await list(`?actor_id=${readerId}&limit=3`)).json();
      expect(byActor.events).toHaveLength(3);
      for (const e of byActor.events) expect(e.actor_id).toBe(readerId);
      expect((await list(`?actor_id=5d1e0c7a-9f7b-4a39-8a4e-1f2e3d4c5b6a`)).json()).toEqual({ events: [], next_cursor: null });

      expect((await list('?from=2026-11-24T12:00:00Z&to=2026-11-24T12:00:01Z&limit=2')).json().events).toHaveLength(2);
      expect((await list('?from=2026-11-25T00:00:00Z')).json().events).toHaveLength(0);
    });

    it('answers "who saw this patient" through the GIN index on patient_ids (for a patient seen rarely)', async () => {
      await t.db.query(`ANALYZE audit_events`);
      const plan = await t.db.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT seq FROM audit_events WHERE organization_id = $1 AND patient_ids @> ARRAY[$2]::uuid[] ORDER BY seq DESC LIMIT 101`,
        [org.id, '0b5c6d7e-8f90-4a1b-8c2d-3e4f5a6b7c8d'],
      );
      expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Bitmap Index Scan on audit_events_\w+_patient_ids_idx/);
    });

    it('refuses bad filters with 400 naming the field, and callers without audit:read with 403', async () => {
      for (const [q, field] of [['?limit=0', 'limit'], ['?limit=1001', 'limit'], ['?action=peek', 'action'], ['?patient_id=abc', 'patient_id'], ['?from=yesterday', 'from'], ['?cursor=bogus', 'cursor']]) {
        const res = await list(q);
        expect(res.statusCode).toBe(400);
        expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
      }
      expect((await list('')).statusCode).toBe(200);
      expect((await list('', reader)).statusCode).toBe(403);
    });
  });

  describe('tampering', () => {
    /** An organization of its own per test (each tampers with it), with a chain of ten events. */
    const victimWithTenEvents = async (): Promise<{ victim: { id: string; slug: string }; token: string }> => {
      const victim = await createOrganization(t.db);
      await addPatients(t.db, victim.id, ['Margaret Hamilton']);
      const token = await memberToken(t, victim.id, Role.Owner);
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await t.inject({ method: 'GET', url: `/api/v1/audit-test/${victim.id}/profiles`, headers: bearer(token) })).statusCode);
      expect(statuses).toEqual(Array(10).fill(200));
      expect(await verify(victim.id, token)).toEqual({ valid: true, events_checked: 10, first_broken: null });
      return { victim, token };
    };

    /** What a superuser can do: switch the append-only triggers off for the session and rewrite history. */
    const asTamperer = (sql: string, params: unknown[] = []): Promise<unknown> =>
      t.db.query(`SET session_replication_role = replica`).then(() => t.db.query(sql, params)).finally(() => t.db.query(`SET session_replication_role = origin`));

    it('a row altered directly in the database is reported at that row, by the endpoint and by the command', async () => {
      const { victim, token } = await victimWithTenEvents();
      const rows = await auditRows(t.db, victim.id);
      const target = rows[6];
      await asTamperer(`UPDATE audit_events SET patient_ids = '{}' WHERE organization_id = $1 AND seq = 7`, [victim.id]);
      const broken = { id: target.id, occurred_at: target.occurred_at.toISOString(), sequence: 7, reason: 'content_altered' };
      expect(await verify(victim.id, token)).toEqual({ valid: false, events_checked: 7, first_broken: broken });
      const cli = await verifyOrganizationBySlug(t.db.url, victim.slug);
      expect(cli).toEqual({ organization_id: victim.id, valid: false, events_checked: 7, first_broken: broken });
      // The other organization's chain is untouched.
      expect((await verify(org.id)).valid).toBe(true);
    });

    it('a deleted row is reported at the row after it', async () => {
      const { victim, token } = await victimWithTenEvents();
      const rows = await auditRows(t.db, victim.id);
      await asTamperer(`DELETE FROM audit_events WHERE organization_id = $1 AND seq IN (3, 10)`, [victim.id]);
      expect(await verify(victim.id, token)).toEqual({
        valid: false,
        events_checked: 3,
        first_broken: { id: rows[3].id, occurred_at: rows[3].occurred_at.toISOString(), sequence: 4, reason: 'sequence_gap' },
      });
    });

    it('rows deleted from the end (nothing after them to notice) are reported from the chain head, by the endpoint and by the command', async () => {
      const { victim, token } = await victimWithTenEvents();
      await asTamperer(`DELETE FROM audit_events WHERE organization_id = $1 AND seq IN (9, 10)`, [victim.id]);
      const missing = { id: null, occurred_at: null, sequence: 9, reason: 'events_missing_at_end' };
      expect(await verify(victim.id, token)).toEqual({ valid: false, events_checked: 8, first_broken: missing });
      expect(await verifyOrganizationBySlug(t.db.url, victim.slug)).toEqual({ organization_id: victim.id, valid: false, events_checked: 8, first_broken: missing });
    });
  });
});
