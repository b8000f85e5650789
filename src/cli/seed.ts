import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { loadSettings } from 'src/config/settings';
import { runMigrations } from 'src/database/migrate';
import { openDatabase } from 'src/database/open-database';
import { CLINIC_KINDS, DEFAULT_CLINIC_KIND, isClinicKind } from 'src/demo-data/clinic-kinds';
import { defaultHistoryWeeks, scoreWithHistory } from 'src/demo-data/score-history';
import { seedOrganization } from 'src/demo-data/seed';
import { generateClinicBatch, writeClinicBatch } from 'src/demo-data/many-clinics';
import { buildPools } from 'src/demo-data/seed-catalog';
import { Client } from 'pg';
import { recomputeOrganization } from 'src/scoring/recompute/organization-recompute';
import { analyzeScoringTables } from 'src/scoring/recompute/maintenance';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';
import { createPhiCipher } from 'src/records/phi/phi-cipher';
import { checkMasterKey } from 'src/records/phi/master-key-check';
import { progressReporter } from 'src/cli/support/progress';
import { runCli, CliUsageError } from 'src/cli/support/run-cli';
import { Database } from 'src/database/database';

/**
 * `npm run seed -- --orgs <N> --patients <P> --seed <n> [--org <prefix>] [--kind ...] [--no-score]`: N clinics of P
 * patients each (slugs `<prefix>-00001`..., prefix `clinic`; clinic i's draws from seed n + i, its names and places
 * from the pools of seed n, drawn once for the run), each scored as of now (no history: one run per clinic, two at
 * a time, one ANALYZE at the end), as a multi-tenant deployment of many small clinics looks. Clinics that exist are
 * replaced. The clinics are written in batches of about 10,000 patients, one transaction and one COPY per table each,
 * the next batch generated while one is written.
 *
 * `npm run seed -- --org <slug> [--name <name>] [--kind dental|physiotherapy|primary_care] --patients <N> --seed <n>
 * [--history-weeks <w>] [--no-score] [--workers <n>]`: generates a clinic of that kind (default dental), with `n`
 * generator threads (default: one per core, at most 4, from 20,000 patients; the same clinic whatever `n`), then scores it as of each of
 * the past `w` weeks and as of now, as the nightly recompute would have (its risk history and trends), unless
 * --no-score. `w` defaults to 8 up to HISTORY_MAX_DEFAULT_PATIENTS patients, 0 above (each week is one more run).
 */
runCli(async () => {
  const { values } = parseArgs({
    options: {
      org: { type: 'string' },
      name: { type: 'string' },
      kind: { type: 'string', default: DEFAULT_CLINIC_KIND },
      patients: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '1' },
      'history-weeks': { type: 'string' },
      'no-score': { type: 'boolean', default: false },
      orgs: { type: 'string' },
      workers: { type: 'string' },
    },
    strict: true,
  });
  if (values.orgs !== undefined) return seedMany(values);
  const slug = values.org;
  if (!slug || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(slug)) throw new CliUsageError('--org <slug> is required: lower-case letters, digits and dashes (or --orgs <N>)');
  const patients = Number(values.patients);
  if (!Number.isInteger(patients) || patients < 0 || patients > 5_000_000) throw new CliUsageError('--patients must be an integer from 0 to 5000000');
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new CliUsageError('--seed must be an integer');
  const kind = values.kind;
  if (!isClinicKind(kind)) throw new CliUsageError(`--kind must be one of ${CLINIC_KINDS.join(', ')}`);
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0 && workers <= 16)) throw new CliUsageError('--workers must be an integer from 0 to 16');
  const weeks = values['history-weeks'] === undefined ? defaultHistoryWeeks(patients) : Number(values['history-weeks']);
  if (!Number.isInteger(weeks) || weeks < 0 || weeks > 52) throw new CliUsageError('--history-weeks must be an integer from 0 to 52');
  const settings = loadSettings();
  const now = new Date();
  const db = await openDatabase(settings, (l) => process.stderr.write(l + '\n'));
  try {
    await runMigrations(db.url);
    await checkMasterKey(db, settings);
    const progress = progressReporter('patients', patients);
    let indexes: ReturnType<typeof progressReporter> | null = null;
    let phases: Record<string, number> = {};
    const indexTimes: { name: string; table: string; ms: number }[] = [];
    const result = await seedOrganization(db.url, {
      onPhases: (p) => (phases = p),
      slug,
      name: values.name ?? slug.replace(/(^|-)(\w)/g, (_m, d: string, c: string) => (d ? ' ' : '') + c.toUpperCase()),
      kind,
      patients,
      seed,
      now,
      workers,
      cipher: createPhiCipher(settings),
      onProgress: (done) => progress.update(done),
      onIndex: (done, total, index) => {
        if (index !== undefined) indexTimes.push(index);
        if (indexes === null) {
          progress.stop();
          indexes = progressReporter('rebuilding indexes', total);
        }
        indexes.update(done);
      },
    });
    progress.stop();
    (indexes as ReturnType<typeof progressReporter> | null)?.stop();
    process.stdout.write(`Seeded organization "${slug}" (${result.organizationId}), a ${kind.replace('_', ' ')} clinic, in ${result.seconds.toFixed(1)} s\n`);
    process.stdout.write(`  ${Object.entries(phases).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`).join(', ')}\n`);
    if (indexTimes.length > 0) {
      // The slowest index builds first (where the `indexes` phase went).
      const slowest = [...indexTimes].sort((a, b) => b.ms - a.ms).slice(0, 8);
      process.stdout.write(`  slowest index builds: ${slowest.map((i) => `${i.name} ${(i.ms / 1000).toFixed(1)} s`).join(', ')}\n`);
    }
    for (const [table, n] of Object.entries(result.rows)) process.stdout.write(`  ${table.padEnd(24)} ${n.toLocaleString('en-US')}\n`);
    if (!values['no-score']) {
      const past = weeks > 0 ? progressReporter('scoring the past weeks', weeks) : null;
      let scoring: ReturnType<typeof progressReporter> | null = null;
      const database = new Database({ url: db.url, poolSize: 2, applicationName: 'patient-journey-seed' });
      const scored = await scoreWithHistory(database, result.organizationId, now, {
        weeks,
        onPastRun: (done) => past?.update(done),
        onProgress: (done, total) => {
          if (scoring === null) {
            past?.stop();
            scoring = progressReporter('scoring', total);
          }
          scoring.update(done);
        },
      }).finally(() => database.close());
      (scoring as ReturnType<typeof progressReporter> | null)?.stop();
      if (weeks > 0) process.stdout.write(`Scored as of ${weeks} past weeks in ${(scored.historyMs / 1000).toFixed(1)} s (risk history and trends)\n`);
      process.stdout.write(`Scored ${scored.final.patients.toLocaleString('en-US')} patients in ${(scored.final.totalMs / 1000).toFixed(1)} s\n`);
    }
  } finally {
    await db.stop();
  }
});

interface SeedArgs {
  org?: string;
  kind?: string;
  patients?: string;
  seed?: string;
  'no-score'?: boolean;
  orgs?: string;
}

/** Patients per transaction of `--orgs` (clinics are batched up to about this many patients). */
const MANY_BATCH_PATIENTS = 10_000;
/** Clinics scored at once by `--orgs` (each run is mostly round trips at a few hundred patients). */
const MANY_SCORING_CONCURRENCY = 2;

/** `--orgs N`: many clinics in one run (see the comment at the top). */
async function seedMany(values: SeedArgs): Promise<void> {
  const orgs = Number(values.orgs);
  if (!Number.isInteger(orgs) || orgs < 1 || orgs > 100_000) throw new CliUsageError('--orgs must be an integer from 1 to 100000');
  const prefix = values.org ?? 'clinic';
  if (!/^[a-z0-9][a-z0-9-]{0,50}$/.test(prefix)) throw new CliUsageError('--org (the prefix with --orgs) must be lower-case letters, digits and dashes, at most 51');
  const patients = Number(values.patients ?? '200');
  if (!Number.isInteger(patients) || patients < 0 || patients > 1_000_000) throw new CliUsageError('--patients must be an integer from 0 to 1000000');
  const seed = Number(values.seed ?? '1');
  if (!Number.isInteger(seed)) throw new CliUsageError('--seed must be an integer');
  const kind = values.kind ?? DEFAULT_CLINIC_KIND;
  if (!isClinicKind(kind)) throw new CliUsageError(`--kind must be one of ${CLINIC_KINDS.join(', ')}`);
  const settings = loadSettings();
  const now = new Date();
  const cipher = createPhiCipher(settings);
  const db = await openDatabase(settings, (l) => process.stderr.write(l + '\n'));
  const started = Date.now();
  let scoreMs = 0;
  try {
    await runMigrations(db.url);
    await checkMasterKey(db, settings);
    const pools = buildPools(seed);
    const ids: string[] = [];
    const client = new Client({ connectionString: db.url, options: '-c timezone=UTC', application_name: 'patient-journey-seed' });
    await client.connect();
    const progress = progressReporter('clinics', orgs);
    try {
      // Batch k + 1 is generated while batch k is written (the generator yields to let its COPY stream).
      const perBatch = Math.max(1, Math.min(500, Math.floor(MANY_BATCH_PATIENTS / Math.max(1, patients))));
      let writing: Promise<void> = Promise.resolve();
      for (let first = 1; first <= orgs; first += perBatch) {
        const clinics = [];
        for (let i = first; i < Math.min(orgs + 1, first + perBatch); i++) clinics.push({ slug: `${prefix}-${String(i).padStart(5, '0')}`, name: `Clinic ${i}`, seed: seed + i });
        const batch = await generateClinicBatch(clinics, { kind, patients, now, cipher, pools });
        await writing;
        progress.update(first - 1);
        writing = writeClinicBatch(client, batch);
        // A failed write must surface at the next await, not as an unhandled rejection.
        writing.catch(() => undefined);
        ids.push(...batch.organizations.map((o) => o.id));
      }
      await writing;
      progress.update(orgs);
    } finally {
      progress.stop();
      await client.end();
    }
    const seedSeconds = (Date.now() - started) / 1000;
    if (!values['no-score']) {
      // Each clinic scored as of now, without the per-run VACUUM of the shared scoring tables (every organization's
      // rows: it made each run slower than the one before); one ANALYZE of them at the end.
      const scoring = progressReporter('scoring clinics', orgs);
      const database = new Database({ url: db.url, poolSize: 2, applicationName: 'patient-journey-seed' });
      const repos = new ScoringRepositories();
      const scoringStarted = Date.now();
      try {
        let next = 0;
        let done = 0;
        const worker = async (): Promise<void> => {
          while (next < ids.length) {
            const id = ids[next++];
            await recomputeOrganization(database, repos, id, now, { vacuum: false });
            scoring.update(++done);
          }
        };
        await Promise.all(Array.from({ length: MANY_SCORING_CONCURRENCY }, worker));
        const owner = await database.ownerConnection('patient-journey-seed');
        try {
          await analyzeScoringTables(owner);
        } finally {
          await owner.end();
        }
      } finally {
        scoring.stop();
        await database.close();
      }
      scoreMs = Date.now() - scoringStarted;
    }
    process.stdout.write(
      `Seeded ${orgs.toLocaleString('en-US')} clinics of ${patients.toLocaleString('en-US')} patients (${(orgs * patients).toLocaleString('en-US')} in all) in ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s (generating ${seedSeconds.toFixed(1)} s${values['no-score'] ? '' : `, scoring ${(scoreMs / 1000).toFixed(1)} s`})\n`,
    );
  } finally {
    await db.stop();
  }
}
