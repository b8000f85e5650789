import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { DataSourceConfig, dataSourceOptions } from 'src/database/data-source-options';

/** Advisory lock key, so that two instances starting together do not run the same migration twice. */
const MIGRATION_LOCK = 7_246_001;

/** Applies pending migrations as the connecting (owner) user; returns the names of those applied. */
export async function runMigrations(url: string): Promise<string[]> {
  const lock = new Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const ds = new DataSource(dataSourceOptions({ url, asRuntimeRole: false, poolSize: 2, applicationName: 'patient-journey-migrations' }));
    await ds.initialize();
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await ds.destroy();
    }
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.end();
  }
}

/**
 * The SQL that `migration:generate` would write against a migrated database: empty when entities and migrations
 * agree. CI fails when it is not (test/database/schema-drift.int-spec.ts).
 */
export async function pendingSchemaChanges(url: string, entities: DataSourceConfig['entities']): Promise<string[]> {
  const ds = new DataSource(dataSourceOptions({ url, asRuntimeRole: false, poolSize: 2, entities }));
  await ds.initialize();
  try {
    const sql = await ds.driver.createSchemaBuilder().log();
    return sql.upQueries.map((q) => q.query);
  } finally {
    await ds.destroy();
  }
}

/** The reverse of pendingSchemaChanges, for a generated migration's down(). */
export async function pendingSchemaChangesDown(url: string, entities: DataSourceConfig['entities']): Promise<string[]> {
  const ds = new DataSource(dataSourceOptions({ url, asRuntimeRole: false, poolSize: 2, entities }));
  await ds.initialize();
  try {
    const sql = await ds.driver.createSchemaBuilder().log();
    return sql.downQueries.map((q) => q.query).reverse();
  } finally {
    await ds.destroy();
  }
}
