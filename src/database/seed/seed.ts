import { Client } from 'pg';
import { generateClinic } from 'src/database/seed/clinic-generator';

export interface SeedOptions {
  slug: string;
  name: string;
  patients: number;
  seed: number;
  /** "now" for the generated history (dates are relative to it). */
  now: Date;
  /** Called with (done, total) as patients are written. */
  onProgress?: (done: number, total: number) => void;
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
    await client.query('DELETE FROM organizations WHERE slug = $1', [options.slug]);
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO organizations (slug, name, timezone, currency, settings) VALUES ($1, $2, 'UTC', 'USD', '{}') RETURNING id`,
      [options.slug, options.name],
    );
    const organizationId = rows[0].id;
    const counts = await generateClinic(client, organizationId, options);
    await client.query('COMMIT');
    return { organizationId, rows: { organizations: 1, ...counts }, seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}

/** On first start with an empty database: the demo organization ("Demo Clinic", 2,000 patients). */
export async function seedDemoIfEmpty(url: string, now: Date, log: (line: string) => void): Promise<boolean> {
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
  log('Empty database: seeding the demo organization "demo" (Demo Clinic, 2,000 patients)...');
  const result = await seedOrganization(url, { slug: 'demo', name: 'Demo Clinic', patients: 2000, seed: 1, now });
  log(`Seeded "demo" in ${result.seconds.toFixed(1)} s`);
  return true;
}
