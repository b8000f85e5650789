import type { Client } from 'pg';
import { CLINIC_CATALOGS, type ClinicKind, DEFAULT_CLINIC_KIND } from 'src/demo-data/clinic-kinds';
import { copyInto } from 'src/demo-data/copy-table';
import { type HistoryContext, writePatient } from 'src/demo-data/patient-history';
import { deleteOrganization } from 'src/demo-data/seed';
import type { SeedPools } from 'src/demo-data/seed-catalog';
import { SeedKeys } from 'src/demo-data/seed-keys';
import { SeedRandom } from 'src/demo-data/seed-random';
import { clinicTables, tablesInLoadOrder } from 'src/demo-data/seed-tables';
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

/**
 * Creates (or replaces) several clinics in one transaction on `client` (the owner connection of `npm run seed --
 * --orgs`): each organization inserted (its metrics partition comes from the insert trigger), each clinic generated
 * with its own seed exactly as `generateClinic` writes one (writePatient, the same tables), but all their rows sent
 * together, one COPY per table for the whole batch instead of one per clinic and table. As a superuser, foreign-key
 * and count triggers are skipped during the COPY (every reference points at a row written before it) and the patient
 * counts added at the end, as generateClinic does; secondary indexes stay (a batch is small beside a table). Returns
 * the organizations' ids, in the order given, and the row counts per table.
 */
export async function seedClinicBatch(
  client: Client,
  clinics: readonly ClinicSpec[],
  options: ClinicBatchOptions,
): Promise<{ organizationIds: string[]; rows: Record<string, number> }> {
  await client.query('BEGIN');
  try {
    const { rows: roles } = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
    const superuser = roles[0]?.rolsuper === true;
    const organizationIds: string[] = [];
    for (const c of clinics) {
      await deleteOrganization(client, c.slug);
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO organizations (slug, name, timezone, currency, settings) VALUES ($1, $2, 'UTC', 'USD', '{}') RETURNING id`,
        [c.slug, c.name],
      );
      organizationIds.push(rows[0].id);
    }
    const parts = new Map<string, { columns: readonly string[]; data: Buffer[] }>();
    const counts: Record<string, number> = { organizations: clinics.length };
    for (let k = 0; k < clinics.length; k++) {
      const organizationId = organizationIds[k];
      const tables = clinicTables(organizationId, Date.now());
      const keys = await SeedKeys.open(client, options.cipher, organizationId);
      const ctx: HistoryContext = {
        rng: new SeedRandom(clinics[k].seed),
        pools: options.pools,
        keys,
        tables,
        organizationId,
        nowMs: options.now.getTime(),
        catalog: CLINIC_CATALOGS[options.kind ?? DEFAULT_CLINIC_KIND],
      };
      for (let i = 0; i < options.patients; i++) writePatient(ctx, i);
      const ordered = tablesInLoadOrder(tables);
      ordered.splice(1, 0, keys.table);
      for (const t of ordered) {
        const part = parts.get(t.table) ?? { columns: t.columns, data: [] };
        part.data.push(t.take());
        parts.set(t.table, part);
        counts[t.table] = (counts[t.table] ?? 0) + t.count;
      }
    }
    if (superuser) await client.query('SET LOCAL session_replication_role = replica');
    await client.query(`SET LOCAL app.bulk_load = 'on'`);
    // Map order is the load order of the first clinic: parents before children.
    for (const [table, part] of parts) await copyInto(client, table, part.columns, Buffer.concat(part.data));
    await client.query(`SET LOCAL app.bulk_load = 'off'`);
    if (superuser) {
      await client.query('SET LOCAL session_replication_role = DEFAULT');
      await client.query(
        `INSERT INTO patient_metric_counts (organization_id, status, risk_level, risk_trend, patients, last_computed_at)
         SELECT organization_id, status, risk_level, risk_trend, count(*), max(computed_at)
           FROM patient_metrics WHERE organization_id = ANY($1::uuid[]) GROUP BY organization_id, status, risk_level, risk_trend`,
        [organizationIds],
      );
    }
    await client.query('COMMIT');
    return { organizationIds, rows: counts };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
