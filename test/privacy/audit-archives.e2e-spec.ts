import { randomUUID } from 'node:crypto';
import type { AuditEventContent } from 'src/audit/trail/audit-event';
import { contentHash } from 'src/audit/trail/hash-chain';
import { TrailRepository } from 'src/audit/trail/trail.repository';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { Role } from 'src/organizations/organizations.enums';
import { RetentionSweep } from 'src/privacy/retention/retention-sweep';
import { profileReadEvent } from 'test/audit/audit-fixtures';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createTestApp, TestApp } from 'test/utils/test-app';

/**
 * Issue #17: the audit archives the retention sweep writes (encrypted) before retiring audit events, listed and
 * downloaded (NDJSON, decrypted as it streams) by callers with audit:read of the organization; the download is an
 * audit event; an unknown id or another organization's archive is a 404 problem.
 */
describe('audit archives: list and download', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  }, 120_000);
  afterAll(() => t.close());

  const listUrl = (org: string): string => `/api/v1/organizations/${org}/audit-archives`;

  /** An organization with `old` events in 2019-2020 and one recent, swept once: one archive of the old ones. */
  async function archived(old: string[]): Promise<{ org: string; ids: string[]; archiveId: string }> {
    const org = (await createOrganization(t.db)).id;
    const trail = t.app.get(TrailRepository);
    const event = (occurredAt: Date): AuditEventContent => profileReadEvent(org, occurredAt);
    const events = old.map((d) => event(new Date(d)));
    await t.app.get(TenantDb).transaction(org, async (db) => {
      for (const e of [...events, event(new Date('2026-11-20T10:00:00Z'))]) await trail.append(db, e, contentHash(e));
    });
    const report = await t.app.get(RetentionSweep).run(org);
    expect(report.audit.retired).toBe(old.length);
    return { org, ids: events.map((e) => e.id), archiveId: report.audit.archive_file_id as string };
  }

  it('lists the archives with their period, months, count and size; downloads one as NDJSON, audited', async () => {
    const { org, ids, archiveId } = await archived(['2019-11-03T10:00:00Z', '2019-12-10T10:00:00Z', '2020-03-15T10:00:00Z']);
    const auditor = await memberToken(t, org, Role.Admin);

    const list = await t.inject({ method: 'GET', url: listUrl(org), headers: bearer(auditor) });
    expect(list.statusCode).toBe(200);
    const body = list.json<{ archives: Record<string, unknown>[] }>();
    expect(body.archives).toEqual([
      {
        id: archiveId,
        first_sequence: 1,
        last_sequence: 3,
        event_count: 3,
        period_start: '2019-11-03T10:00:00.000Z',
        period_end: '2020-03-15T10:00:00.000Z',
        months: ['2019-11', '2019-12', '2020-01', '2020-02', '2020-03'],
        retired_before: expect.stringMatching(/^20(19|20)-/),
        created_at: expect.any(String),
        size_bytes: expect.any(Number),
      },
    ]);

    const download = await t.inject({ method: 'GET', url: `${listUrl(org)}/${archiveId}`, headers: bearer(auditor) });
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(download.headers['content-disposition']).toBe('attachment; filename="audit-archive-1-3.ndjson"');
    expect(Buffer.byteLength(download.body)).toBe(body.archives[0].size_bytes);
    const lines = download.body
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as { sequence: number; id: string; organization_id: string; hash: string });
    expect(lines.map((l) => [l.sequence, l.id, l.organization_id])).toEqual(ids.map((id, i) => [i + 1, id, org]));
    expect(lines.every((l) => /^[0-9a-f]{64}$/.test(l.hash))).toBe(true);

    // The list and the download are audit events (without PHI: the archive's id only).
    const events = await t.db.query<{ action: string; resource: string; route: string; status_code: number; patient_ids: string[] }>(
      `SELECT action, resource, route, status_code, patient_ids FROM audit_events WHERE organization_id = $1 AND resource = 'audit_archive' ORDER BY seq`,
      [org],
    );
    expect(events.map((e) => [e.action, e.status_code, e.patient_ids])).toEqual([
      ['list', 200, []],
      ['export', 200, []],
    ]);
    expect(events[1].route).toContain('audit-archives');
  });

  it('404 problem for an unknown archive and for another organization’s; 403 without audit:read; 400 for a malformed id', async () => {
    const a = await archived(['2019-05-01T10:00:00Z']);
    const b = await archived(['2019-06-01T10:00:00Z', '2019-07-01T10:00:00Z']);
    const auditorA = await memberToken(t, a.org, Role.Owner);

    const unknown = await t.inject({ method: 'GET', url: `${listUrl(a.org)}/${randomUUID()}`, headers: bearer(auditorA) });
    expect([unknown.statusCode, unknown.headers['content-type'], unknown.json().type]).toEqual([
      404,
      expect.stringMatching(/^application\/problem\+json/),
      'https://patient-journey.dev/problems/audit-archive-not-found',
    ]);
    const others = await t.inject({ method: 'GET', url: `${listUrl(a.org)}/${b.archiveId}`, headers: bearer(auditorA) });
    expect([others.statusCode, others.json().type]).toEqual([404, 'https://patient-journey.dev/problems/audit-archive-not-found']);
    // Each organization lists its own archive only.
    const listed = await t.inject({ method: 'GET', url: listUrl(a.org), headers: bearer(auditorA) });
    expect(listed.json<{ archives: { id: string; event_count: number }[] }>().archives.map((x) => [x.id, x.event_count])).toEqual([[a.archiveId, 1]]);

    const clinician = await memberToken(t, a.org, Role.Clinician);
    expect((await t.inject({ method: 'GET', url: listUrl(a.org), headers: bearer(clinician) })).statusCode).toBe(403);
    expect((await t.inject({ method: 'GET', url: `${listUrl(a.org)}/${a.archiveId}`, headers: bearer(clinician) })).statusCode).toBe(403);
    // A member of b asking for a's archives: b's token has no access to organization a.
    const auditorB = await memberToken(t, b.org, Role.Owner);
    expect((await t.inject({ method: 'GET', url: `${listUrl(a.org)}/${a.archiveId}`, headers: bearer(auditorB) })).statusCode).toBe(403);
    const malformed = await t.inject({ method: 'GET', url: `${listUrl(a.org)}/not-a-uuid`, headers: bearer(auditorA) });
    expect([malformed.statusCode, malformed.json().type]).toEqual([400, 'https://patient-journey.dev/problems/validation-failed']);
  });
});
