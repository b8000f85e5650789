import { Logger } from '@nestjs/common';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuditEventContent, NO_ORGANIZATION } from 'src/audit/trail/audit-event';
import { AuditWriteError, TrailWriter } from 'src/audit/trail/trail-writer';
import { TrailRepository } from 'src/audit/trail/trail.repository';
import type { TenantDb } from 'src/database/tenant/tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';

const ORG = '3f2b8c1e-5a4d-4e6f-9a7b-1c2d3e4f5a6b';

function event(i: number, organizationId = ORG): AuditEventContent {
  return {
    organizationId, id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, occurredAt: new Date(0), actorType: null, actorId: null,
    actorRole: null, action: AuditAction.Read, resource: 'patient', method: 'GET', route: '/r', patientIds: [], query: {}, outcome: 'success',
    statusCode: 200, requestId: null, ip: null, userAgent: null,
  };
}

/** A repository whose appendBatch resolves when the test says so, numbering events per organization. */
function fakeRepository(): { repo: TrailRepository; batches: AuditEventContent[][]; release(): void; failNext(err: unknown): void } {
  const batches: AuditEventContent[][] = [];
  const seqs = new Map<string, number>();
  let gate: (() => void)[] = [];
  let failure: unknown = null;
  const repo = {
    appendBatch: jest.fn(async (_sql: unknown, events: { content: AuditEventContent }[]) => {
      batches.push(events.map((e) => e.content));
      await new Promise<void>((r) => gate.push(r));
      if (failure) {
        const f = failure;
        failure = null;
        throw f;
      }
      return events.map((e) => {
        const n = (seqs.get(e.content.organizationId) ?? 0) + 1;
        seqs.set(e.content.organizationId, n);
        return n;
      });
    }),
  } as unknown as TrailRepository;
  return {
    repo,
    batches,
    release: () => {
      const g = gate;
      gate = [];
      g.forEach((r) => r());
    },
    failNext: (err) => (failure = err),
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** The writer's batches run on the organization's handle; the fake repository does the work. */
const tenantDb = {
  statements: (organizationId: string, work: (db: TenantSql) => Promise<unknown>) => work({ organizationId, query: async () => [] }),
} as unknown as TenantDb;

describe('TrailWriter group commit', () => {
  beforeAll(() => Logger.overrideLogger(false));
  it('appends the first event at once and gathers the ones that arrive meanwhile into the next batch', async () => {
    const f = fakeRepository();
    const writer = new TrailWriter(f.repo, tenantDb);
    const first = writer.append(event(1));
    await tick();
    const rest = [2, 3, 4].map((i) => writer.append(event(i)));
    await tick();
    expect(f.batches.map((b) => b.length)).toEqual([1]);
    f.release();
    await tick();
    expect(f.batches.map((b) => b.length)).toEqual([1, 3]);
    f.release();
    expect(await Promise.all([first, ...rest])).toEqual([1, 2, 3, 4]);
  });

  it('keeps one queue per organization', async () => {
    const f = fakeRepository();
    const writer = new TrailWriter(f.repo, tenantDb);
    const a = writer.append(event(1));
    const b = writer.append(event(2, '9f2b8c1e-5a4d-4e6f-9a7b-1c2d3e4f5a6b'));
    await tick();
    expect(f.batches).toHaveLength(2);
    f.release();
    expect(await Promise.all([a, b])).toEqual([1, 1]);
  });

  it('fails every caller of a failed batch with AuditWriteError, and goes on with the next', async () => {
    const f = fakeRepository();
    const writer = new TrailWriter(f.repo, tenantDb);
    f.failNext(new Error('disk full'));
    const doomed = writer.append(event(1));
    await tick();
    const later = writer.append(event(2));
    f.release();
    await expect(doomed).rejects.toBeInstanceOf(AuditWriteError);
    await tick();
    f.release();
    await expect(later).resolves.toBe(1);
  });

  it('files events of an unknown organization under the no-organization chain', async () => {
    const f = fakeRepository();
    const writer = new TrailWriter(f.repo, tenantDb);
    f.failNext(Object.assign(new Error('unknown organization'), { code: '23503' }));
    const p = writer.append(event(1));
    await tick();
    f.release();
    await tick();
    await tick();
    expect(f.batches[1][0].organizationId).toBe(NO_ORGANIZATION);
    f.release();
    await expect(p).resolves.toBe(1);
  });

  describe('coalescing the events of concurrent requests', () => {
    it('a request alone is flushed at once: its own running slot ends when its event is queued', async () => {
      const f = fakeRepository();
      const writer = new TrailWriter(f.repo, tenantDb);
      writer.coalesceMs = 10_000;
      const release = writer.begin(ORG);
      const p = writer.append(event(1), undefined, release);
      await tick();
      expect(f.batches.map((b) => b.length)).toEqual([1]);
      f.release();
      await expect(p).resolves.toBe(1);
    });

    it('waits for the other running requests of the organization and commits their events together', async () => {
      const f = fakeRepository();
      const writer = new TrailWriter(f.repo, tenantDb);
      writer.coalesceMs = 10_000;
      const [ra, rb, rc] = [writer.begin(ORG), writer.begin(ORG), writer.begin(ORG)];
      const other = writer.begin('9f2b8c1e-5a4d-4e6f-9a7b-1c2d3e4f5a6b'); // another organization never holds this one
      const a = writer.append(event(1), undefined, ra);
      const b = writer.append(event(2), undefined, rb);
      await tick();
      expect(f.batches).toEqual([]);
      rc(); // the third ended without an event (an error answer records through the hook later)
      await tick();
      expect(f.batches.map((batch) => batch.map((e) => e.id.slice(-1)))).toEqual([['1', '2']]);
      f.release();
      expect(await Promise.all([a, b])).toEqual([1, 2]);
      other();
    });

    it('waits at most coalesceMs for a request that is still running', async () => {
      // The coalescing timer on a fake clock: the test decides when 19 and 20 ms have passed.
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
      const f = fakeRepository();
      const writer = new TrailWriter(f.repo, tenantDb);
      writer.coalesceMs = 20;
      const ra = writer.begin(ORG);
      const slow = writer.begin(ORG);
      const a = writer.append(event(1), undefined, ra);
      await tick();
      expect(f.batches).toEqual([]);
      jest.advanceTimersByTime(19);
      await tick();
      expect(f.batches).toEqual([]); // still waiting for the slow request
      jest.advanceTimersByTime(1);
      await tick();
      expect(f.batches.map((b) => b.length)).toEqual([1]); // written after coalesceMs, the slow one still running
      jest.useRealTimers();
      f.release();
      await expect(a).resolves.toBe(1);
      slow();
      slow(); // idempotent
      const r2 = writer.begin(ORG);
      const next = writer.append(event(2), undefined, r2);
      await tick();
      expect(f.batches.map((b) => b.length)).toEqual([1, 1]); // nothing else running: at once
      f.release();
      await expect(next).resolves.toBe(2);
    });
  });
});
