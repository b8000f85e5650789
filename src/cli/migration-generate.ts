import 'reflect-metadata';
import { ENTITIES } from 'src/entities';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSettings } from 'src/config/settings';
import { openDatabase } from 'src/database/open-database';
import { runMigrations, pendingSchemaChanges, pendingSchemaChangesDown } from 'src/database/migrate';

/**
 * `npm run migration:generate -- <Name>`: applies the existing migrations, then writes
 * src/database/migrations/<timestamp>-<name>.ts with the SQL that brings the schema in line with the entities.
 * Prints "No changes" and writes nothing when they already agree.
 */
async function main(): Promise<void> {
  const name = process.argv.slice(2).find((a) => !a.startsWith('-'));
  if (!name || !/^[A-Za-z][A-Za-z0-9]*$/.test(name)) {
    process.stderr.write('usage: npm run migration:generate -- <PascalCaseName>\n');
    process.exit(1);
  }
  const settings = loadSettings();
  const db = await openDatabase(settings, (l) => process.stderr.write(l + '\n'));
  try {
    await runMigrations(db.url);
    const up = await pendingSchemaChanges(db.url, ENTITIES);
    if (up.length === 0) {
      process.stdout.write('No changes: the entities and the migrations agree.\n');
      return;
    }
    const down = await pendingSchemaChangesDown(db.url, ENTITIES);
    const ts = Date.now();
    const className = `${name}${ts}`;
    const q = (s: string): string => '`' + s.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
    const body = `import { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(queryRunner: QueryRunner): Promise<void> {
${up.map((s) => `    await queryRunner.query(${q(s)});`).join('\n')}
  }

  async down(queryRunner: QueryRunner): Promise<void> {
${down.map((s) => `    await queryRunner.query(${q(s)});`).join('\n')}
  }
}
`;
    const file = join(__dirname.replace(/[\\/]dist[\\/].*$/, '/src/database').replace(/[\\/]cli$/, ''), 'migrations', `${ts}-${name}.ts`);
    writeFileSync(file, body);
    process.stdout.write(`Wrote ${file}; add ${className} to src/database/migrations/index.ts\n`);
  } finally {
    await db.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
