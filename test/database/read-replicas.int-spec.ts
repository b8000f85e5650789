import { Client } from 'pg';
import { createApp } from 'src/app.factory';
import { signDevToken } from 'src/auth/dev-token';
import { Database } from 'src/database/database';
import { EngagementRollupService } from 'src/engagement/engagement-rollup.service';
import { runMigrations } from 'src/database/migrate';
import { seedOrganization } from 'src/demo-data/seed';
import { Role } from 'src/organizations/organizations.enums';
import { createPhiCipher } from 'src/records/phi/phi-cipher';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { eventually } from 'test/utils/eventually';
import { describeUnless } from 'test/utils/skip-unless';
import { startStreamingPair, streamingReplicaUnavailable, type StreamingPair } from 'test/utils/streaming-replica';
import { testSettings } from 'test/utils/test-app';

/**
 * Read replicas (DATABASE_REPLICA_URLS) against a real streaming standby: a primary and a standby of the test's own,
 * from the embedded PostgreSQL binaries (test/utils/streaming-replica.ts). The list, a profile, the analytics and a
 * journey are read from the replica, the audit appended on the primary; after a caller's write its reads go to the
 * primary until the replica has replayed it; a lagging replica is skipped; a replica that fails is skipped (the
 * reads still answer) and used again once it is back.
 */
const unavailable = streamingReplicaUnavailable();

interface Profile {
  patient: { name: string; risk_assessment: { risk_score: number } };
}

describeUnless(
  unavailable === null ? null : `no embedded PostgreSQL binaries to start a primary and a standby: ${unavailable}`,
  'read replicas (a real streaming standby)',
  () => {
    let pair: StreamingPair;
    let app: NestFastifyApplication;
    let database: Database;
    let org: string;
    let patientIds: string[];
    let token: string;

    const get = (path: string) =>
      app.inject({ method: 'GET', url: `/api/v1/patients/${org}/${path}`, headers: { authorization: `Bearer ${token}` } });
    const onStandby = async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> => {
      const c = new Client({ connectionString: pair.standbyUrl });
      await c.connect();
      try {
        return (await c.query<T>(sql, params)).rows;
      } finally {
        await c.end();
      }
    };
    const onPrimary = async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> => {
      const c = new Client({ connectionString: pair.primaryUrl });
      await c.connect();
      try {
        return (await c.query<T>(sql, params)).rows;
      } finally {
        await c.end();
      }
    };
    const stats = () => database.replicas!.stats();

    beforeAll(async () => {
      pair = await startStreamingPair();
      await runMigrations(pair.primaryUrl);
      const settings = testSettings(pair.primaryUrl, {
        DATABASE_REPLICA_URLS: pair.standbyUrl,
        DATABASE_REPLICA_MAX_LAG_SECONDS: '3600',
        DATABASE_REPLICA_RETRY_SECONDS: '1',
        // Every read reaches the database (no page or count served from this process's memory).
        PATIENT_PAGE_CACHE_ENTRIES: '0',
        PHI_DECRYPT_CACHE_ENTRIES: '0',
      });
      const seeded = await seedOrganization(pair.primaryUrl, {
        slug: 'replica-clinic',
        name: 'Replica Clinic',
        patients: 40,
        seed: 5,
        now: new Date(),
        cipher: createPhiCipher(settings),
      });
      org = seeded.organizationId;
      patientIds = (await onPrimary<{ id: string }>(`SELECT id FROM patients WHERE organization_id = $1 ORDER BY id`, [org])).map(
        (r) => r.id,
      );
      const [user] = await onPrimary<{ id: string }>(`INSERT INTO users (email, name) VALUES ('owner@replica.test', 'Owner') RETURNING id`);
      await onPrimary(`INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, $3)`, [org, user.id, Role.Owner]);
      token = signDevToken(settings.jwt.secret as string, { sub: user.id }, { expiresIn: '1h' });
      await pair.caughtUp();
      app = await createApp({ settings, databaseUrl: pair.primaryUrl });
      database = app.get(Database);
      // The engagement rollup, built as after a seed's recompute: without one the first overview enqueues its build
      // and waits for it (writes of the organization, so read-your-writes would rightly send its reads to the primary).
      await app.get(EngagementRollupService).rebuild(org);
      await pair.caughtUp();
      await eventually(
        () => stats().replicas[0].up,
        (up) => up,
        { what: 'the replica checked and up' },
      );
      // The rollup's build is a write of the organization: reads go to the primary until the replica set's periodic
      // check has seen the standby replay past it. Wait for a read the standby serves (a page of another size each
      // time, so no cache answers instead of the database).
      let size = 1;
      await eventually(
        async () => {
          const before = stats().replicas[0].reads;
          await get(`profiles?limit=${size++}`);
          return stats().replicas[0].reads > before;
        },
        (served) => served,
        { what: 'a read served by the replica', intervalMs: 100 },
      );
    }, 180_000);

    afterAll(async () => {
      await app?.close();
      await pair?.close();
    }, 60_000);

    it('reads the list, a profile, the analytics and a journey from the replica; the audit goes to the primary', async () => {
      expect(patientIds).toHaveLength(40);
      const before = stats();
      const auditBefore = (
        await onPrimary<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1`, [org])
      )[0].n;
      const answers = [
        await get('profiles?limit=10'),
        await get(`profile/${patientIds[0]}`),
        await get('risk-summary'),
        await get('engagement/overview'),
        await get(`journey/${patientIds[1]}`),
      ];
      expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
      const after = stats();
      expect(after.primaryReads).toBe(before.primaryReads);
      expect(after.replicas[0].reads - before.replicas[0].reads).toBeGreaterThanOrEqual(5);
      // The audit trail (the list, the profile and the journey carry PHI; the aggregates do not) is appended on the
      // primary: a standby takes no writes.
      await eventually(
        async () => (await onPrimary<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1`, [org]))[0].n,
        (n) => n === auditBefore + 3,
        { what: 'the audit events on the primary' },
      );

      // Proof that the answer came from the standby: with its replay paused, a change made on the primary alone (not
      // through the app, so no read-your-writes) is not seen.
      const riskOf = async (): Promise<number> =>
        ((await get(`profile/${patientIds[0]}`)).json() as Profile).patient.risk_assessment.risk_score;
      // The reads above may have started background writes of the organization (the engagement overview rebuilds a
      // stale rollup): read-your-writes sends its reads to the primary until the standby has replayed them, so wait
      // for a profile read that the standby serves before pausing it.
      await pair.caughtUp();
      await eventually(
        async () => {
          const primaryBefore = stats().primaryReads;
          await riskOf();
          return stats().primaryReads === primaryBefore;
        },
        (servedByStandby) => servedByStandby,
        { what: 'a profile read served by the standby' },
      );
      const seen = await riskOf();
      await pair.pauseReplay();
      try {
        await onPrimary(
          `UPDATE patient_metrics SET risk_score = CASE WHEN risk_score > 50 THEN 10 ELSE 90 END WHERE organization_id = $1 AND patient_id = $2`,
          [org, patientIds[0]],
        );
        expect(await riskOf()).toBe(seen);
      } finally {
        await pair.resumeReplay();
      }
      await pair.caughtUp();
      expect(await riskOf()).not.toBe(seen);
    });

    it("reads a caller's own write from the primary until the replica has replayed it (read-your-writes)", async () => {
      await pair.pauseReplay();
      let id: string;
      try {
        const res = await app.inject({
          method: 'POST',
          url: `/api/v1/ingest/${org}/records`,
          headers: { authorization: `Bearer ${token}` },
          payload: {
            records: [{ record_type: 'patient', source: 'ehr', external_id: 'ryw-1', name: 'Rita Yves', email: 'rita@example.com' }],
          },
        });
        expect(res.statusCode).toBe(200);
        id = (res.json() as { results: { id: string }[] }).results[0].id;
        expect(await onStandby(`SELECT 1 FROM patients WHERE id = $1`, [id])).toEqual([]); // not on the replica yet
        const before = stats();
        const profile = await get(`profile/${id}`);
        expect(profile.statusCode).toBe(200);
        expect((profile.json() as Profile).patient.name).toBe('Rita Yves');
        expect(stats().primaryReads).toBe(before.primaryReads + 1);
        expect(stats().replicas[0].reads).toBe(before.replicas[0].reads);
      } finally {
        await pair.resumeReplay();
      }
      // Once the replica has replayed the write (the next check sees it), its reads go back to the replica.
      await pair.caughtUp();
      await eventually(
        async () => {
          const before = stats().replicas[0].reads;
          expect((await get(`profile/${id}`)).statusCode).toBe(200);
          return stats().replicas[0].reads - before;
        },
        (n) => n === 1,
        { what: 'the profile read from the replica again' },
      );
    });

    it('skips a lagging replica until it catches up', async () => {
      // A second process's view with a tight lag limit (this one's is an hour).
      const strict = new Database({
        url: pair.primaryUrl,
        poolSize: 2,
        replicas: { urls: [pair.standbyUrl], maxLagSeconds: 1, retrySeconds: 1, checkIntervalMs: 200 },
      });
      await strict.startReplicas();
      try {
        const where = async (): Promise<string> =>
          strict.reads.statements(org, async (db) =>
            (await db.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby'))[0].standby ? 'replica' : 'primary',
          );
        expect(await where()).toBe('replica');
        await pair.pauseReplay();
        try {
          // The primary moves on (another organization's write), the replica does not: after a second it is lagging.
          await onPrimary(`UPDATE organizations SET name = name || '.' WHERE id <> $1`, [org]);
          await onPrimary(`INSERT INTO organizations (slug, name) VALUES ('lag-' || md5(random()::text), 'Lag')`);
          await eventually(
            () => strict.replicas!.stats().replicas[0].lagging,
            (l) => l,
            { what: 'the replica seen lagging' },
          );
          expect(await where()).toBe('primary');
        } finally {
          await pair.resumeReplay();
        }
        await eventually(
          () => strict.replicas!.stats().replicas[0].lagging,
          (l) => !l,
          { what: 'the replica caught up' },
        );
        expect(await where()).toBe('replica');
      } finally {
        await strict.close();
      }
    });

    it('answers from the primary while the replica is down, and uses it again once it is back', async () => {
      await pair.stopStandby();
      try {
        const answers = [await get(`profile/${patientIds[2]}`), await get('profiles?limit=5'), await get(`journey/${patientIds[2]}`)];
        expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200]);
        expect(stats().replicas[0].up).toBe(false);
        const before = stats();
        expect((await get(`profile/${patientIds[3]}`)).statusCode).toBe(200);
        expect(stats().primaryReads).toBe(before.primaryReads + 1);
      } finally {
        await pair.startStandby();
      }
      await eventually(
        () => stats().replicas[0].up,
        (up) => up,
        { what: 'the replica up again after its retry pause' },
      );
      const before = stats().replicas[0].reads;
      expect((await get(`profile/${patientIds[3]}`)).statusCode).toBe(200);
      expect(stats().replicas[0].reads).toBe(before + 1);
    }, 120_000);
  },
);
