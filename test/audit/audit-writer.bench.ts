/**
 * The chain lock's cost in isolation: 50 concurrent writers appending events to one organization's chain, one
 * event per transaction (the lock held through each commit's flush) against TrailWriter's group commit. Run with:
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx jest --testMatch '**\/test/audit/audit-writer.bench.ts' --testTimeout 900000
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { AuditAction } from 'src/audit/trail/audit-action';
import { contentHash } from 'src/audit/trail/hash-chain';
import { AuditEventContent } from 'src/audit/trail/audit-event';
import { verifyOrganizationChain } from 'src/audit/trail/chain-verification';
import { TrailWriter } from 'src/audit/trail/trail-writer';
import { TrailRepository } from 'src/audit/trail/trail.repository';
import { Database } from 'src/database/database';
import { createOrganization } from 'test/auth/auth-fixtures';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

const WRITERS = 50;
const PER_WRITER = Number(process.env.AUDIT_BENCH_PER_WRITER ?? 40);

function event(organizationId: string): AuditEventContent {
  return {
    organizationId, id: randomUUID(), occurredAt: new Date(), actorType: 'user', actorId: randomUUID(), actorRole: 'clinician',
    action: AuditAction.List, resource: 'patient', method: 'GET', route: '/api/v1/patients/:organizationId/profiles',
    patientIds: Array.from({ length: 20 }, () => randomUUID()), query: { limit: '20' }, outcome: 'success', statusCode: 200,
    requestId: randomUUID(), ip: '127.0.0.1', userAgent: 'bench',
  };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    for (let i = 0; i < PER_WRITER; i++) await work();
  }));
  return (WRITERS * PER_WRITER) / ((performance.now() - t0) / 1000);
}

describe('audit chain lock', () => {
  let db: TestDatabase;
  let database: Database;
  afterAll(async () => {
    await database?.close();
    await db?.drop();
  });

  it('per-event appends against group commit, 50 concurrent writers on one organization', async () => {
    db = await createTestDatabase();
    database = new Database({ url: db.url, poolSize: 20 });
    const repository = new TrailRepository();
    const writer = new TrailWriter(repository, database.tenants);
    const a = await createOrganization(db);
    const b = await createOrganization(db);
    const perEvent = await timed(() => {
      const e = event(a.id);
      return database.tenants.transaction(a.id, (t) => repository.append(t, e, contentHash(e)));
    });
    const grouped = await timed(() => writer.append(event(b.id)));
    process.stdout.write(
      `\n${WRITERS} writers x ${PER_WRITER} events, one organization, 20 patient ids per event\n` +
        `  one event per transaction: ${perEvent.toFixed(0)} events/s\n` +
        `  group commit (TrailWriter): ${grouped.toFixed(0)} events/s\n`,
    );
    for (const org of [a, b]) {
      const v = await database.tenants.read(org.id, (t) => verifyOrganizationChain(repository, t), { snapshot: true });
      expect(v).toEqual({ valid: true, eventsChecked: WRITERS * PER_WRITER, firstBroken: null });
    }
  });
});
