import type { DataSourceOptions, EntitySchema } from 'typeorm';
import { RUNTIME_ROLE } from 'src/database/database';
import { MIGRATIONS } from 'src/database/migrations';


export interface DataSourceConfig {
  url: string;
  /** Work as RUNTIME_ROLE (the app) or as the connecting user (migrations, seed, maintenance commands). */
  asRuntimeRole: boolean;
  poolSize?: number;
  applicationName?: string;
  /**
   * The entity classes, for what compares them with the schema (`migration:generate`, the drift test): passed down
   * from the top (src/entities.ts) so that this folder imports no feature. Running migrations needs none.
   */
  entities?: (Function | EntitySchema)[];
}

export function dataSourceOptions(config: DataSourceConfig): DataSourceOptions {
  const startupOptions = ['-c timezone=UTC', '-c datestyle=ISO'];
  if (config.asRuntimeRole) startupOptions.push(`-c role=${RUNTIME_ROLE}`);
  return {
    type: 'postgres',
    url: config.url,
    entities: config.entities ?? [],
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    uuidExtension: 'pgcrypto',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: {
      max: config.poolSize ?? 10,
      options: startupOptions.join(' '),
      application_name: config.applicationName ?? 'patient-journey-api',
      idleTimeoutMillis: 30_000,
    },
  };
}
