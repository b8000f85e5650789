import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import type { ClinicKind } from 'src/demo-data/clinic-kinds';
import { addMetricCounts, copyInto } from 'src/demo-data/copy-table';
import { BlockGenerator, blockCount, ExternalIdNumbering, SEED_BLOCK_PATIENTS, type SeedBlockSpec } from 'src/demo-data/seed-block';
import { deleteOrganization } from 'src/demo-data/seed';
import type { SeedPools } from 'src/demo-data/seed-catalog';
import { SeedKeys } from 'src/demo-data/seed-keys';
import { clinicIdPrefixes } from 'src/demo-data/seed-tables';
import type { PhiCipherCore } from 'src/records/phi/phi-cipher';

export interface ClinicSpec {
  slug: string;
  name: string;
  /** The clinic's own draws (visits, PHI, …) come from this seed. */
  seed: number;
}

export interface ClinicBatchOptions {
  kind?: ClinicKind;
  /** Patients per clinic. */
  patients: number;
  now: Date;
  cipher: PhiCipherCore;
  /** Names and places, drawn once for the whole run (buildPools: about 0.2 s each, most of a small clinic's time). */
  pools: SeedPools;
}

/** A batch of clinics generated in memory, not yet written (generateClinicBatch → writeClinicBatch). */
export interface GeneratedBatch {
  organizations: { id: string; slug: string; name: string; wrappedKey: string }[];
  /** Per table, in load order (parents first): its columns and the COPY data of every clinic of the batch. */
  tables: Map<string, { columns: readonly string[]; data: Uint8Array[] }>;
  rows: Record<string, number>;
}

/** Patients generated (at least) between two yields to the event loop, so that a batch being written keeps streaming. */
const SLICE = 250;

/**
 * Generates several clinics in memory, each with its own seed exactly as `generateClinic` writes one (the same
 * blocks, seed-block.ts), with organization ids and keys made here (SeedKeys.fresh): no database needed, so the next
 * batch is generated while the previous one is written. Yields to the event loop every SLICE patients or so.
 */
export async function generateClinicBatch(clinics: readonly ClinicSpec[], options: ClinicBatchOptions): Promise<GeneratedBatch> {
  const tables = new Map<string, { columns: readonly string[]; data: Uint8Array[] }>();
  const rows: Record<string, number> = { organizations: clinics.length };
  const organizations: GeneratedBatch['organizations'] = [];
  let sinceYield = 0;
  for (const clinic of clinics) {
    const organizationId = randomUUID();
    const { keys, wrappedKey } = SeedKeys.fresh(options.cipher, organizationId);
    organizations.push({ id: organizationId, slug: clinic.slug, name: clinic.name, wrappedKey });
    const spec: SeedBlockSpec = {
      organizationId,
      kind: options.kind,
      seed: clinic.seed,
      poolsSeed: 0,
      patients: options.patients,
      nowMs: options.now.getTime(),
      idPrefixes: clinicIdPrefixes(Date.now()),
      kek: keys.organizationKey.kek,
      kekVersion: keys.organizationKey.version,
    };
    const generator = new BlockGenerator(spec, options.cipher, options.pools);
    const numbering = new ExternalIdNumbering();
    for (let b = 0; b < blockCount(options.patients); b++) {
      const block = generator.generate(b);
      numbering.apply(block);
      for (const t of block.tables) {
        const part = tables.get(t.table) ?? { columns: t.columns, data: [] };
        part.data.push(t.data);
        tables.set(t.table, part);
        rows[t.table] = (rows[t.table] ?? 0) + t.count;
      }
      sinceYield += Math.min(SEED_BLOCK_PATIENTS, options.patients - b * SEED_BLOCK_PATIENTS);
      if (sinceYield >= SLICE) {
        sinceYield = 0;
        await new Promise((r) => setImmediate(r));
      }
    }
  }
  return { organizations, tables, rows };
}

/**
 * Writes a generated batch in one transaction on `client` (the owner connection of `npm run seed -- --orgs`): clinics
 * of the same slugs removed, the organizations inserted with their ids (their metrics rows go to the shared
 * partition) and their keys, then one COPY per table for the whole batch instead of one per clinic and table.
 * As a superuser, foreign-key and count triggers are skipped during the COPY (every reference points at a row written
 * before it) and the patient counts added at the end, as generateClinic does; secondary indexes stay (a batch is
 * small beside a table).
 */
export async function writeClinicBatch(client: Client, batch: GeneratedBatch): Promise<void> {
  await client.query('BEGIN');
  try {
    const { rows: roles } = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
    const superuser = roles[0]?.rolsuper === true;
    for (const o of batch.organizations) {
      await deleteOrganization(client, o.slug);
      await client.query(`INSERT INTO organizations (id, slug, name, timezone, currency, settings) VALUES ($1, $2, $3, 'UTC', 'USD', '{}')`, [o.id, o.slug, o.name]);
      await client.query(`INSERT INTO organization_keys (organization_id, version, wrapped_key) VALUES ($1, 1, $2)`, [o.id, o.wrappedKey]);
    }
    if (superuser) await client.query('SET LOCAL session_replication_role = replica');
    await client.query(`SET LOCAL app.bulk_load = 'on'`);
    for (const [table, part] of batch.tables) await copyInto(client, table, part.columns, part.data);
    await client.query(`SET LOCAL app.bulk_load = 'off'`);
    if (superuser) {
      await client.query('SET LOCAL session_replication_role = DEFAULT');
      await addMetricCounts(
        client,
        batch.organizations.map((o) => o.id),
      );
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Creates (or replaces) several clinics in one transaction: generateClinicBatch then writeClinicBatch. Returns the
 * organizations' ids, in the order given, and the row counts per table.
 */
export async function seedClinicBatch(
  client: Client,
  clinics: readonly ClinicSpec[],
  options: ClinicBatchOptions,
): Promise<{ organizationIds: string[]; rows: Record<string, number> }> {
  const batch = await generateClinicBatch(clinics, options);
  await writeClinicBatch(client, batch);
  return { organizationIds: batch.organizations.map((o) => o.id), rows: batch.rows };
}
