import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createOpenApiDocument } from 'src/app.factory';
import { loadSettings } from 'src/config/settings';
import { runCli } from 'src/cli/support/run-cli';

/** Stable JSON: object keys sorted, so the committed document only changes when the API does. */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value as object).sort().map((k) => [k, stable((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/**
 * `npm run openapi:write` writes openapi.json from the compiled code (with the Swagger CLI plugin's metadata);
 * `npm run openapi:check` fails when the committed file differs from what the code produces.
 */
runCli(async () => {
  const check = process.argv.includes('--check');
  const settings = loadSettings({ ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: 'x'.repeat(32) });
  const document = await createOpenApiDocument({ settings, databaseUrl: 'postgres://unused@127.0.0.1:1/unused' });
  const text = JSON.stringify(stable(document), null, 2) + '\n';
  const file = resolve(__dirname, '../../openapi.json');
  if (!check) {
    writeFileSync(file, text);
    process.stdout.write(`Wrote ${file}\n`);
    return;
  }
  let committed = '';
  try {
    committed = readFileSync(file, 'utf8');
  } catch {
    // missing file: reported below
  }
  if (committed !== text) {
    process.stderr.write('openapi.json is out of date with the code: run `npm run openapi:write` and commit it\n');
    process.exit(1);
  }
  process.stdout.write('openapi.json matches the code\n');
});
