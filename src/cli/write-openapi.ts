import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createOpenApiDocument } from 'src/app.factory';
import { COMPILED_RESPONSE_OPERATIONS, responseSchemas } from 'src/common/http/response-schemas';
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
 * `npm run openapi:write` writes openapi.json from the compiled code (with the Swagger CLI plugin's metadata), and
 * the response schemas Fastify compiles for the hot routes (src/common/http/compiled-response-schemas.json, from the same
 * document); `npm run openapi:check` fails when either committed file differs from what the code produces.
 */
runCli(async () => {
  const check = process.argv.includes('--check');
  const settings = loadSettings({ ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: 'x'.repeat(32) });
  const document = await createOpenApiDocument({ settings, databaseUrl: 'postgres://unused@127.0.0.1:1/unused' });
  // Compiled: dist/cli/write-openapi.js; the sources are two folders up (dist/ mirrors src/).
  const root = resolve(__dirname, '../..');
  const files: [string, string][] = [
    [resolve(root, 'openapi.json'), JSON.stringify(stable(document), null, 2) + '\n'],
    [resolve(root, 'src/common/http/compiled-response-schemas.json'), JSON.stringify(stable(responseSchemas(document, COMPILED_RESPONSE_OPERATIONS)), null, 2) + '\n'],
  ];
  if (!check) {
    for (const [file, text] of files) {
      writeFileSync(file, text);
      process.stdout.write(`Wrote ${file}\n`);
    }
    return;
  }
  for (const [file, text] of files) {
    let committed = '';
    try {
      committed = readFileSync(file, 'utf8');
    } catch {
      // missing file: reported below
    }
    if (committed !== text) {
      process.stderr.write(`${file} is out of date with the code: run \`npm run openapi:write\` and commit it\n`);
      process.exit(1);
    }
  }
  process.stdout.write('openapi.json and the compiled response schemas match the code\n');
});
