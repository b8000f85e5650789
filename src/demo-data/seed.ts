import { Client } from 'pg';
import { loadSettings, Settings } from 'src/config/settings';
import { generateClinic } from 'src/demo-data/clinic-generator';
import { CLINIC_CATALOGS, ClinicKind } from 'src/demo-data/clinic-kinds';
import { ScoredWithHistory, scoreWithHistory } from 'src/demo-data/score-history';
import { createPhiCipher, PhiCipherCore } from 'src/records/phi/phi-cipher';
import { Database } from 'src/database/database';
import { dropOrganizationPartitions } from 'src/database/partition-tables';

export interface SeedOptions {
  slug: string;
  name: string;
  /** The kind of clinic (default dental, src/demo-data/clinic-kinds.ts). */
  kind?: ClinicKind;
  patients: number;
  seed: number;
  /** "now" for the generated history (dates are relative to it). */
  now: Date;
  /** The PHI cipher (`createPhiCipher(settings)`): the seed encrypts with the app's keys. */
  cipher: PhiCipherCore;
  /** Patients per COPY round (default 5,000). */
  chunkSize?: number;
  /** Generator threads (GeneratorOptions.workers): the same clinic whatever the number. */
  workers?: number;
  /** Called with (done, total) as patients are written. */
  onProgress?: (done: number, total: number) => void;
  /** Called as the indexes dropped for a bulk load are rebuilt (done, total, and the index rebuilt with its build time). */
  onIndex?: (done: number, total: number, index?: { name: string; table: string; ms: number }) => void;
  /** Drop and rebuild the secondary indexes around the load (default: from 20,000 patients, as a superuser, when the clinic outnumbers the patients already there). */
  bulkLoad?: boolean;
  /** Where the time went (GeneratorOptions.onPhases), with `commit`, in milliseconds. */
  onPhases?: (phases: Record<string, number>) => void;
}

export interface SeedResult {
  organizationId: string;
  rows: Record<string, number>;
  seconds: number;
}

/**
 * Creates the organization `slug`, or replaces it (its rows go with it by ON DELETE CASCADE), and fills it with a
 * generated clinic. Works as the connecting (owner) user, in one transaction: a failed seed leaves nothing behind.
 */
export async function seedOrganization(url: string, options: SeedOptions): Promise<SeedResult> {
  const started = Date.now();
  const client = new Client({ connectionString: url, options: '-c timezone=UTC' });
  await client.connect();
  try {
    await client.query('BEGIN');
    await deleteOrganization(client, options.slug);
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO organizations (slug, name, timezone, currency, settings) VALUES ($1, $2, 'UTC', 'USD', '{}') RETURNING id`,
      [options.slug, options.name],
    );
    const organizationId = rows[0].id;
    let phases: Record<string, number> = {};
    const counts = await generateClinic(client, organizationId, { ...options, onPhases: (p) => (phases = p) });
    const committing = Date.now();
    await client.query('COMMIT');
    options.onPhases?.({ ...phases, commit: Date.now() - committing });
    return { organizationId, rows: { organizations: 1, ...counts }, seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}

/**
 * Removes the organization `slug` with everything it owns. As a superuser, table by table with foreign-key triggers
 * off (`session_replication_role = replica`): a cascade from `organizations` would run one query per patient per
 * child table. Otherwise a plain cascading delete.
 */
export async function deleteOrganization(client: Client, slug: string): Promise<void> {
  const { rows } = await client.query<{ id: string; rolsuper: boolean }>(
    'SELECT o.id, r.rolsuper FROM organizations o, pg_roles r WHERE o.slug = $1 AND r.rolname = current_user',
    [slug],
  );
  if (rows.length === 0) return;
  if (rows[0].rolsuper) {
    // Exactly what the cascade would reach: tables with a foreign key to organizations or patients (all of which carry
    // organization_id; a partitioned table's partitions through it). Tables without one (the audit trail, the metric count deltas) are left as the cascade leaves them.
    const tables = await client.query<{ table_name: string }>(
      `SELECT DISTINCT c.conrelid::regclass::text AS table_name FROM pg_constraint c
        WHERE c.contype = 'f' AND c.confrelid IN ('organizations'::regclass, 'patients'::regclass)
          AND c.conrelid <> 'organizations'::regclass AND c.conparentid = 0
          AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attname = 'organization_id' AND NOT a.attisdropped)
        ORDER BY 1`,
    );
    await client.query('SET LOCAL session_replication_role = replica');
    for (const { table_name } of tables.rows) await client.query(`DELETE FROM ${table_name} WHERE organization_id = $1`, [rows[0].id]);
    await client.query('SET LOCAL session_replication_role = DEFAULT');
  }
  await client.query('DELETE FROM organizations WHERE id = $1', [rows[0].id]);
  // Its partitions of its own (an organization above the rebuild threshold: metrics, opportunities, engagement days),
  // empty now, and the shared partitions' CHECKs that kept it out; the rows of one in the shared partitions went with
  // the deletes above.
  await dropOrganizationPartitions(async (sql, params) => (await client.query(sql, params)).rows, rows[0].id);
}

/** The demo organization: a dental clinic of 2,000 patients (seed 1), with eight weeks of scoring history. */
export const DEMO = { slug: 'demo', name: 'Demo Clinic', kind: 'dental' as ClinicKind, patients: 2000, seed: 1 };

/**
 * Seeds the demo organization as of `now` and scores it with its history (scoreWithHistory): what the first start
 * of an empty database shows.
 */
export async function seedDemo(url: string, now: Date, cipher: PhiCipherCore): Promise<{ seeded: SeedResult; scored: ScoredWithHistory }> {
  const seeded = await seedOrganization(url, { ...DEMO, now, cipher });
  const database = new Database({ url, poolSize: 2, applicationName: 'patient-journey-demo-seed' });
  try {
    const scored = await scoreWithHistory(database, seeded.organizationId, now);
    return { seeded, scored };
  } finally {
    await database.close();
  }
}

/** On first start with an empty database: the demo organization (DEMO), scored with its history. */
export async function seedDemoIfEmpty(url: string, now: Date, log: (line: string) => void, settings: Settings = loadSettings()): Promise<boolean> {
  const client = new Client({ connectionString: url });
  await client.connect();
  let empty: boolean;
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM organizations');
    empty = Number(rows[0].n) === 0;
  } finally {
    await client.end();
  }
  if (!empty) return false;
  const kind = CLINIC_CATALOGS[DEMO.kind].label.toLowerCase();
  log(`Empty database: seeding the demo organization "demo" (${DEMO.name}, a ${kind} of 2,000 patients) and scoring its last 8 weeks...`);
  const { seeded, scored } = await seedDemo(url, now, createPhiCipher(settings));
  log(
    `Seeded "demo" in ${seeded.seconds.toFixed(1)} s and scored its ${scored.final.patients} patients as of ${scored.pastRuns} past weeks ` +
      `and today in ${((scored.historyMs + scored.final.totalMs) / 1000).toFixed(1)} s`,
  );
  return true;
}
