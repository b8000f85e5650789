import 'reflect-metadata';
import { loadSettings } from 'src/config/settings';
import { runMigrations } from 'src/database/migrate';
import { openDatabase } from 'src/database/open-database';
import { runCli } from 'src/cli/support/run-cli';

/** `npm run migration:run`: applies pending migrations to DATABASE_URL (or the embedded PostgreSQL). */
runCli(async () => {
  const db = await openDatabase(loadSettings(), (l) => process.stderr.write(l + '\n'));
  try {
    const applied = await runMigrations(db.url);
    process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'No pending migrations\n');
  } finally {
    await db.stop();
  }
});
