import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadSettings } from 'src/config/settings';
import { dataSourceOptions } from 'src/database/data-source-options';
import { ENTITIES } from 'src/entities';

/**
 * The TypeORM DataSource for the TypeORM CLI, built from the same validated settings as the app. It needs
 * DATABASE_URL; `npm run migration:generate` and `npm run migration:run` also work without it (they start the
 * embedded PostgreSQL like `npm start` does).
 */
const settings = loadSettings();
if (!settings.databaseUrl) {
  throw new Error('ormconfig.ts needs DATABASE_URL; or use npm run migration:generate / migration:run, which start the embedded PostgreSQL');
}
export default new DataSource(dataSourceOptions({ url: settings.databaseUrl, asRuntimeRole: false, entities: ENTITIES }));
