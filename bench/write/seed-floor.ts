/**
 * The seed against its floor, for `npm run bench:write -- --seed N`: `seedOrganization` (what `npm run seed` runs) of N
 * patients into a scratch organization, then the floor: the same clinic generated again (same seed, kind and `now`;
 * the same blocks, in this thread; generation and encryption not timed) and its rows COPYed into fresh tables of the same columns in a schema of its
 * own (no constraint, no trigger, no index: only the COPY statements are timed), then the indexes of the real tables
 * built on them, one after the other with maintenance_work_mem 1.5GB as the seed rebuilds its own. The scratch
 * organization and the schema are removed at the end.
 */
import { loadavg } from 'node:os';
import { Client } from 'pg';
import { loadSettings } from 'src/config/settings';
import { isClinicKind } from 'src/demo-data/clinic-kinds';
import { copyInto } from 'src/demo-data/copy-table';
import { deleteOrganization, seedOrganization } from 'src/demo-data/seed';
import { BlockGenerator, blockCount, ExternalIdNumbering, type GeneratedBlock, SEED_BLOCK_PATIENTS, type SeedBlockSpec } from 'src/demo-data/seed-block';
import { SeedKeys } from 'src/demo-data/seed-keys';
import { clinicIdPrefixes, clinicTables, tablesInLoadOrder } from 'src/demo-data/seed-tables';
import { createPhiCipher } from 'src/records/phi/phi-cipher';
import { PgCpuSampler } from './pg-cpu';

export interface SeedStep {
  label: string;
  ms: number;
  nodeCpuS: number;
  pgCpuS: number | null;
  loadBefore: number;
  loadAfter: number;
  detail?: string;
}

const SCHEMA = 'write_bench_seed';
const SEED = 42;
const CHUNK = 5000;

export async function seedAgainstFloor(
  url: string,
  slug: string,
  patients: number,
  kind: string,
  measure: <T>(label: string, work: () => Promise<T>) => Promise<SeedStep>,
): Promise<{ seed: SeedStep; floor: SeedStep }> {
  if (!isClinicKind(kind)) throw new Error(`--seed-kind: unknown kind ${kind}`);
  const cipher = createPhiCipher(loadSettings());
  const now = new Date();
  const seed = await measure('seed', () => seedOrganization(url, { slug, name: 'Write bench scratch', kind, patients, seed: SEED, now, cipher }));
  const client = new Client({ connectionString: url, application_name: 'write-bench-seed-floor', options: '-c timezone=UTC' });
  await client.connect();
  const dbName = decodeURIComponent(new URL(url).pathname.slice(1));
  try {
    const [{ id: organizationId }] = (await client.query<{ id: string }>(`SELECT id FROM organizations WHERE slug = $1`, [slug])).rows;
    const keys = await SeedKeys.open(client, cipher, organizationId);
    const spec: SeedBlockSpec = {
      organizationId,
      kind,
      seed: SEED,
      poolsSeed: SEED,
      patients,
      nowMs: now.getTime(),
      idPrefixes: clinicIdPrefixes(Date.now()),
      kek: keys.organizationKey.kek,
      kekVersion: keys.organizationKey.version,
    };
    const ordered = tablesInLoadOrder(clinicTables(organizationId, spec.idPrefixes, 0, 0));
    ordered.splice(1, 0, keys.table);
    await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
    for (const t of ordered) await client.query(`CREATE TABLE ${SCHEMA}.${t.table} (LIKE public.${t.table} INCLUDING DEFAULTS)`);
    const indexes = (
      await client.query<{ tablename: string; indexname: string; indexdef: string }>(
        `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY($1) ORDER BY tablename, indexname`,
        [ordered.map((t) => t.table)],
      )
    ).rows.map((r) =>
      r.indexdef
        .replace(/^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?public\.(\S+)/, (_m, u: string | undefined, _o, table: string) => `CREATE ${u ?? ''}INDEX ON ${SCHEMA}.${table}`),
    );
    const generator = new BlockGenerator(spec, cipher);
    const numbering = new ExternalIdNumbering();
    const loadBefore = loadavg()[0];
    const sampler = new PgCpuSampler(dbName);
    sampler.start();
    let copyMs = 0;
    let copyCpu = 0;
    await client.query('BEGIN');
    const blocks = blockCount(patients);
    for (let first = 0; first < blocks; first += CHUNK / SEED_BLOCK_PATIENTS) {
      const round: GeneratedBlock[] = [];
      for (let b = first; b < Math.min(blocks, first + CHUNK / SEED_BLOCK_PATIENTS); b++) {
        const block = generator.generate(b);
        numbering.apply(block);
        round.push(block);
      }
      const batch = ordered.map((t, k) => ({ table: `${SCHEMA}.${t.table}`, columns: t.columns, data: round.map((b) => b.tables[k].data) }));
      const cpu = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (const b of batch) await copyInto(client, b.table, b.columns, b.data);
      copyMs += Number(process.hrtime.bigint() - t0) / 1e6;
      const used = process.cpuUsage(cpu);
      copyCpu += (used.user + used.system) / 1e6;
    }
    const t1 = process.hrtime.bigint();
    await client.query(`SET LOCAL maintenance_work_mem = '1536MB'`);
    for (const def of indexes) await client.query(def);
    const indexMs = Number(process.hrtime.bigint() - t1) / 1e6;
    await client.query('COMMIT');
    const pgCpuS = sampler.stop();
    const floor: SeedStep = {
      label: 'bare COPY + indexes',
      ms: copyMs + indexMs,
      nodeCpuS: copyCpu,
      pgCpuS,
      loadBefore,
      loadAfter: loadavg()[0],
      detail: `[COPY ${(copyMs / 1000).toFixed(1)} s, ${indexes.length} indexes ${(indexMs / 1000).toFixed(1)} s; PostgreSQL CPU counted over the generation too]`,
    };
    process.stdout.write(`  ${floor.label}: ${(floor.ms / 1000).toFixed(1)} s ${floor.detail} (PostgreSQL CPU ${pgCpuS?.toFixed(1) ?? 'n/a'} s)\n`);
    return { seed, floor };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
    await client.query('BEGIN');
    await deleteOrganization(client, slug).catch(() => undefined);
    await client.query('COMMIT');
    await client.end();
  }
}
