/**
 * `TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/serialize-bench.ts`: CPU of serializing the
 * hot routes' answers, JSON.stringify against the serializer Fastify compiles for them (fast-json-stringify, from the committed
 * response schemas, src/common/http/compiled-response-schemas.json, and the list's, which the app does not compile), on the documented examples (a list page is its example's
 * row repeated to 100 rows with distinct ids, names, phones and emails). Prints microseconds per answer (median of rounds).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import COMPILED_RESPONSE_SCHEMAS from 'src/common/http/compiled-response-schemas.json';
import { responseSchemas } from 'src/common/http/response-schemas';
import { medianMicros } from './median';

type Operation = { operationId: string; responses: Record<string, { content?: Record<string, { example?: unknown }> }> };
const document = JSON.parse(readFileSync(resolve(__dirname, '../openapi.json'), 'utf8')) as { paths: Record<string, Record<string, Operation>> };
const ROUNDS = 2000;
/** The list is not compiled by the app (measured slower there, src/common/http/response-schemas.ts): compiled here to compare. */
const listSchema = responseSchemas(document as never, ['listPatientProfiles']);
const schemas: Record<string, object> = { ...(COMPILED_RESPONSE_SCHEMAS as Record<string, object>), ...listSchema };

const median = (work: () => void): number => medianMicros(work, ROUNDS);

async function main(): Promise<void> {
  const answers: { url: string; body: unknown }[] = [];
  for (const [path, ops] of Object.entries(document.paths)) {
    for (const op of Object.values(ops)) {
      const url = path.replace(/\{([^}]+)\}/g, ':$1');
      const schema = schemas[`GET ${url}`] as object | undefined;
      if (!schema) continue;
      let body = op.responses['200'].content?.['application/json']?.example as Record<string, unknown>;
      if (op.operationId === 'listPatientProfiles') {
        const row = (body.patients as Record<string, unknown>[])[0];
        body = { ...body, patients: Array.from({ length: 100 }, (_, i) => ({ ...row, id: `8d2f1c3e-5b6a-4c7d-9e0f-${String(i).padStart(12, '0')}`, name: `Patient Number${i}`, phone: `+1503555${String(i).padStart(4, '0')}`, email: `patient.number${i}@example.com` })) };
      }
      answers.push({ url, body });
    }
  }
  const { default: build } = (await import('fast-json-stringify')) as unknown as { default: (s: object) => (v: unknown) => string };
  const lines: string[] = [];
  let sink = 0;
  for (const a of answers) {
    const fjs = build(schemas[`GET ${a.url}`]);
    const native = median(() => (sink += JSON.stringify(a.body).length));
    const compiled = median(() => (sink += fjs(a.body).length));
    lines.push(`  ${a.url.padEnd(58)} JSON.stringify ${native.toFixed(1).padStart(6)} us   fast-json-stringify ${compiled.toFixed(1).padStart(6)} us   (${JSON.stringify(a.body).length} bytes)`);
  }
  process.stdout.write(`Serializing each hot answer, median of ${ROUNDS}, node ${process.version}:\n${lines.join('\n')}\n(checksum ${sink})\n`);
}

void main();
