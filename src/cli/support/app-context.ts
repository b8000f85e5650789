import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { AppModule } from 'src/app.module';
import { CliUsageError } from 'src/cli/support/run-cli';
import { loadSettings, type Settings } from 'src/config/settings';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { runMigrations } from 'src/database/migrate';
import { openDatabase } from 'src/database/open-database';
import { OrganizationsRepository, type OrganizationRow } from 'src/organizations/organizations.repository';
import { createRootLogger } from 'src/common/logging/logging';
import { AppLogger } from 'src/common/logging/app-logger';
import { checkMasterKey } from 'src/records/phi/master-key-check';

/** The app's modules without an HTTP server: a worker, or a command that uses the app's services. */
export async function createAppContext(settings: Settings, databaseUrl: string): Promise<INestApplicationContext> {
  const context = await NestFactory.createApplicationContext(AppModule.register({ settings, databaseUrl }), {
    bufferLogs: true,
    abortOnError: false,
  });
  context.useLogger(new AppLogger(createRootLogger(settings)));
  context.enableShutdownHooks();
  return context;
}

/**
 * A command that works on one organization through the app's services (the FHIR import, the retention sweep): the
 * settings (with Redis this process only enqueues, without it it runs its own jobs; logs at warn unless LOG_LEVEL
 * says otherwise), the database (migrated), the app's context, and the organization by its slug (a usage error when
 * there is none); everything closed again afterwards, whatever `work` does.
 */
export async function withOrganizationContext<T>(
  slug: string,
  work: (context: INestApplicationContext, organization: OrganizationRow) => Promise<T>,
): Promise<T> {
  const base = loadSettings();
  const settings = loadSettings({
    ...process.env,
    PROCESS_ROLE: base.redisUrl ? 'api' : 'all',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const db = await openDatabase(settings, (l) => process.stderr.write(`${l}\n`));
  try {
    await runMigrations(db.url);
    await checkMasterKey(db, settings);
    const context = await createAppContext(settings, db.url);
    try {
      const organization = await context.get(OrganizationsRepository).bySlug(context.get(CrossTenantDb), slug);
      if (!organization) throw new CliUsageError(`No organization with slug "${slug}"`);
      return await work(context, organization);
    } finally {
      await context.close();
    }
  } finally {
    await db.stop();
  }
}
