/**
 * FHIR Bulk import benchmark (`npm run bench:fhir-import -- [--patients 1000] [--encounters 20] [--via cli|job|both]
 * [--keep-files] [--generate-only] [--sql-times]`).
 *
 * Generates a Bulk Data export (Patient, Encounter, Condition, Claim, ExplanationOfBenefit NDJSON files, written line by
 * line to a temporary folder) of `--patients` patients from the 13 Synthea patients of test/fixtures/fhir as templates
 * (new ids; at most `--encounters` encounters each, one Claim per encounter and an EOB settling it), then imports it
 * into a new organization of the DATABASE_URL database (migrated first) and prints resources/s and the peak RSS:
 * - `cli`: the path of `npm run fhir:import` (local files read twice, line by line);
 * - `job`: the path of `POST /fhir/{org}/import`'s job: the files streamed into the encrypted file store, then the
 *   `fhir-import` job's code reading them back from it.
 * The RSS is sampled every 100 ms in this process (which holds the app's modules and the FHIR definitions).
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Client } from 'pg';
import { createAppContext } from 'src/cli/support/app-context';
import { loadSettings } from 'src/config/settings';
import { runMigrations } from 'src/database/migrate';
import { FileStore } from 'src/file-store/file-store.service';
import { FhirNdjsonImport, type LineSource } from 'src/fhir-import/fhir-ndjson-import';
import { localFile } from 'src/fhir-import/local-files';

const { values } = parseArgs({
  options: {
    patients: { type: 'string', default: '1000' },
    encounters: { type: 'string', default: '20' },
    via: { type: 'string', default: 'both' },
    'keep-files': { type: 'boolean', default: false },
    'sql-times': { type: 'boolean', default: false },
    'generate-only': { type: 'boolean', default: false },
  },
});

type Json = Record<string, any>;
const FIXTURES = join(__dirname, '..', 'test', 'fixtures', 'fhir', 'bulk-13-patients');
const read = (type: string): Json[] =>
  gunzipSync(readFileSync(join(FIXTURES, `${type}.000.ndjson.gz`)))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Json);

async function write(stream: WriteStream, value: unknown): Promise<void> {
  if (!stream.write(`${JSON.stringify(value)}\n`)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
}

/** Writes the scaled export; returns its folder, its files and the number of resources. */
async function generate(patients: number, perPatient: number): Promise<{ dir: string; files: string[]; resources: number }> {
  const templates = read('Patient');
  const encounters = read('Encounter');
  const conditions = read('Condition');
  const of = (list: Json[], id: string): Json[] => list.filter((r) => r.subject?.reference === `Patient/${id}`);
  const dir = mkdtempSync(join(tmpdir(), 'fhir-bench-'));
  const names = ['Patient', 'Encounter', 'Condition', 'Claim', 'ExplanationOfBenefit'];
  const streams = Object.fromEntries(names.map((n) => [n, createWriteStream(join(dir, `${n}.000.ndjson`))])) as Record<string, WriteStream>;
  let resources = 0;
  for (let i = 0; i < patients; i++) {
    const t = templates[i % templates.length];
    const pid = `bench-${i}`;
    const ref = { reference: `Patient/${pid}` };
    await write(streams.Patient, { ...t, id: pid, identifier: undefined, text: undefined });
    resources++;
    for (const [k, e] of of(encounters, t.id as string)
      .slice(0, perPatient)
      .entries()) {
      const eid = `${pid}-e${k}`;
      await write(streams.Encounter, { ...e, id: eid, subject: ref, text: undefined });
      const total = { value: 80 + ((i * 7 + k * 13) % 120), currency: 'USD' };
      const type = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] };
      await write(streams.Claim, {
        resourceType: 'Claim',
        id: `${eid}-c`,
        status: 'active',
        type,
        use: 'claim',
        patient: ref,
        billablePeriod: e.period,
        created: e.period.start,
        provider: { display: 'Clinic' },
        priority: { coding: [{ code: 'normal' }] },
        insurance: [{ sequence: 1, focal: true, coverage: { display: 'Self pay' } }],
        total,
      });
      await write(streams.ExplanationOfBenefit, {
        resourceType: 'ExplanationOfBenefit',
        id: `${eid}-b`,
        status: 'active',
        type,
        use: 'claim',
        patient: ref,
        billablePeriod: e.period,
        created: e.period.start,
        insurer: { display: 'Payer' },
        provider: { display: 'Clinic' },
        claim: { reference: `Claim/${eid}-c` },
        outcome: 'complete',
        insurance: [{ focal: true, coverage: { display: 'Self pay' } }],
        payment: { amount: { value: Math.round(total.value * 0.8), currency: 'USD' } },
      });
      resources += 3;
    }
    for (const [k, c] of of(conditions, t.id as string).entries()) {
      await write(streams.Condition, { ...c, id: `${pid}-c${k}`, subject: ref, encounter: undefined });
      resources++;
    }
  }
  await Promise.all(Object.values(streams).map((s) => new Promise((resolve) => s.end(resolve))));
  return { dir, files: names.map((n) => join(dir, `${n}.000.ndjson`)), resources };
}

/** `--sql-times`: the time spent waiting for each kind of SQL statement (its first 70 characters), summed. */
const sqlTimes = new Map<string, { n: number; ms: number }>();
function timeSql(): void {
  const proto = Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]): unknown {
    const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string })?.text ?? '?');
    const key = text.replace(/\s+/g, ' ').trim().slice(0, 70);
    const started = process.hrtime.bigint();
    const result = original.apply(this, args);
    if (result instanceof Promise) {
      void result.then(
        () => {
          const t = sqlTimes.get(key) ?? { n: 0, ms: 0 };
          t.n++;
          t.ms += Number(process.hrtime.bigint() - started) / 1e6;
          sqlTimes.set(key, t);
        },
        () => undefined,
      );
    }
    return result;
  };
}

async function main(): Promise<void> {
  if (values['sql-times']) timeSql();
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('Set DATABASE_URL to a database of your own (it is migrated and gets a new organization per run)');
  const patients = Number(values.patients);
  const via = values.via === 'both' ? ['cli', 'job'] : [values.via as string];
  const settings = loadSettings({
    ...process.env,
    DATABASE_URL: databaseUrl,
    PROCESS_ROLE: 'all',
    REDIS_URL: '',
    LOG_LEVEL: 'warn',
    DEMO_SEED: 'false',
  });
  await runMigrations(databaseUrl);

  const genStart = Date.now();
  const { dir, files, resources } = await generate(patients, Number(values.encounters));
  const bytes = files.reduce((a, f) => a + statSync(f).size, 0);
  console.log(
    `Generated ${resources.toLocaleString('en-US')} resources of ${patients.toLocaleString('en-US')} patients (${(bytes / 1_048_576).toFixed(1)} MB) in ${((Date.now() - genStart) / 1000).toFixed(1)} s: ${dir}`,
  );

  // `--generate-only`: the export alone (kept), e.g. to time the real CLI on it: `npm run fhir:import -- --org <slug> <folder>`.
  if (values['generate-only']) return;
  const context = await createAppContext(settings, databaseUrl);
  const owner = new Client({ connectionString: databaseUrl });
  await owner.connect();
  try {
    for (const mode of via) {
      const slug = `fhir-bench-${mode}-${Date.now()}`;
      const [{ id: org }] = (
        await owner.query<{ id: string }>(`INSERT INTO organizations (slug, name) VALUES ($1, $1) RETURNING id`, [slug])
      ).rows;
      const before = process.memoryUsage();
      let peak = before.rss;
      let peakHeap = before.heapUsed;
      let peakExternal = before.external;
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        peak = Math.max(peak, m.rss);
        peakHeap = Math.max(peakHeap, m.heapUsed);
        peakExternal = Math.max(peakExternal, m.external);
      }, 100);
      let cpuBefore = process.cpuUsage();
      let started = Date.now();
      let sources = files.map(localFile);
      if (mode === 'job') {
        const store = context.get(FileStore);
        const stored: LineSource[] = [];
        for (const f of files) {
          const w = await store.create(org, {
            name: f.split('/').pop() as string,
            contentType: 'application/fhir+ndjson',
            expiresAt: null,
          });
          for await (const chunk of createReadStream(f, { highWaterMark: 1 << 20 })) await w.write(chunk as Buffer);
          await w.finish();
          const row = await store.get(org, w.id);
          if (!row) throw new Error('stored file missing');
          stored.push({ name: row.name, bytes: Number(row.bytes), lines: () => store.lines(row) });
        }
        console.log(
          `  ${mode}: uploaded into the file store in ${((Date.now() - started) / 1000).toFixed(1)} s (the request's part; not counted below)`,
        );
        cpuBefore = process.cpuUsage();
        started = Date.now();
        sources = stored;
      }
      const summary = await context.get(FhirNdjsonImport).run(
        org,
        sources,
        'fhir',
        { type: null, id: null, role: 'bench' },
        () => Promise.resolve(),
        () => Promise.resolve(),
      );
      clearInterval(sampler);
      const seconds = (Date.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      const mb = (n: number): number => Math.round(n / 1_048_576);
      console.log(
        `  ${mode}: ${summary.resources.toLocaleString('en-US')} resources in ${seconds.toFixed(1)} s = ${Math.round(summary.resources / seconds).toLocaleString('en-US')} resources/s; ` +
          `peak RSS ${mb(peak)} MB (${mb(before.rss)} MB before the import; heap used at most ${mb(peakHeap)} MB, external ${mb(peakExternal)} MB); ` +
          `CPU of this process ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (user ${(cpu.user / 1e6).toFixed(1)}, system ${(cpu.system / 1e6).toFixed(1)}); ` +
          `${summary.patients_rescored} patients rescored`,
      );
      console.log(`    ${JSON.stringify(summary.counts)}`);
      if (values['sql-times']) {
        for (const [k, t] of [...sqlTimes].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25))
          console.log(`    ${(t.ms / 1000).toFixed(2).padStart(7)} s ${String(t.n).padStart(6)}x  ${k}`);
        sqlTimes.clear();
      }
    }
  } finally {
    await owner.end();
    await context.close();
    if (!values['keep-files']) rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
