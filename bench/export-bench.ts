/**
 * Bulk export benchmark (`npm run bench:export -- [--org bench] [--types Patient,Appointment] [--keep]`).
 *
 * Runs one organization's bulk export (the `bulk-export` job, in this process, on the in-process queue) against the
 * DATABASE_URL database, then streams every file back out of the encrypted file store line by line (what a download
 * does), and prints for each phase the wall time and the process's peak RSS (sampled every 50 ms, and the kernel's
 * maxRSS), with the line count of each file beside the organization's stored count. The files are deleted at the
 * end unless `--keep`. The database must be migrated and seeded already
 * (`npm run seed -- --org bench --patients 100000 --seed 42`).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadSettings } from 'src/config/settings';
import { createAppContext } from 'src/cli/support/app-context';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { FileStore } from 'src/file-store/file-store.service';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';
import type { BulkExportResult } from 'src/privacy/export/bulk-export.request';

const { values } = parseArgs({
  options: {
    org: { type: 'string', default: 'bench' },
    types: { type: 'string', default: 'Patient,Appointment' },
    keep: { type: 'boolean', default: false },
  },
});

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Wall time, this process's CPU time (user + system: independent of the other processes' load) and the RSS range while `work` runs, sampled every 50 ms. */
async function measured<T>(work: () => Promise<T>): Promise<{ value: T; ms: number; cpuMs: number; peakRss: number; minRss: number }> {
  let peak = process.memoryUsage().rss;
  let low = peak;
  const timer = setInterval(() => {
    const rss = process.memoryUsage().rss;
    peak = Math.max(peak, rss);
    low = Math.min(low, rss);
  }, 50);
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    const used = process.cpuUsage(cpu);
    return { value, ms: Number(process.hrtime.bigint() - started) / 1e6, cpuMs: (used.user + used.system) / 1000, peakRss: peak, minRss: low };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_export';
  const settings = loadSettings({
    ...process.env,
    DATABASE_URL: databaseUrl,
    DEMO_SEED: 'false',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    REDIS_URL: '',
  });
  const app = await createAppContext(settings, databaseUrl);
  try {
    const org = await app.get(OrganizationsRepository).bySlug(app.get(CrossTenantDb), values.org);
    if (!org) throw new Error(`No organization ${values.org}`);
    const types = values.types.split(',').map((t) => t.trim());
    const jobs = app.get(JobService);
    const files = app.get(FileStore);
    // Counting a million patients' appointments outlasts the read class's statement bound: the batch class's.
    const stored = await app.get(TenantDb).transaction(
      org.id,
      (db) =>
        db.query<{ patients: number; appointments: number }>(
          `SELECT (SELECT count(*) FROM patients WHERE organization_id = $1)::int AS patients,
                  (SELECT count(*) FROM appointments WHERE organization_id = $1)::int AS appointments`,
          [org.id],
        ),
      { batch: true },
    );
    const baseline = process.memoryUsage().rss;
    console.log(
      `organization ${values.org}: ${stored[0].patients} patients, ${stored[0].appointments} appointments; baseline RSS ${mib(baseline)}`,
    );

    const exported = await measured(async () => {
      const run = (await jobs.enqueue(JobType.BulkExport, org.id, { types }))!;
      for (;;) {
        const now = await jobs.get(org.id, run.id);
        if (now && ['succeeded', 'failed', 'cancelled'].includes(now.status)) return now;
        await new Promise((r) => setTimeout(r, 200));
      }
    });
    if (exported.value.status !== 'succeeded') throw new Error(`export ${exported.value.status}: ${exported.value.error ?? ''}`);
    const result = exported.value.result as unknown as BulkExportResult;
    const outputs = await files.ofRun(org.id, exported.value.id);
    const totalLines = result.output.reduce((n, o) => n + o.count, 0);
    const totalBytes = outputs.reduce((n, f) => n + Number(f.bytes), 0);
    const rate = (ms: number): string =>
      `${Math.round(totalLines / (ms / 1000)).toLocaleString('en-US')} lines/s, ${(totalBytes / 1024 / 1024 / (ms / 1000)).toFixed(1)} MiB/s`;
    console.log(
      `export (${types.join(', ')}): ${(exported.ms / 1000).toFixed(1)} s wall (${rate(exported.ms)}), ${(exported.cpuMs / 1000).toFixed(1)} s CPU of this process (${rate(exported.cpuMs)} of CPU), ` +
        `RSS ${mib(exported.minRss)}-${mib(exported.peakRss)} (+${mib(exported.peakRss - baseline)} over baseline); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    );
    for (const o of result.output) {
      const f = outputs.find((x) => x.id === o.file_id);
      console.log(`  ${o.type}.ndjson: ${o.count} lines, ${mib(Number(f?.bytes ?? 0))} plain in ${f?.chunks ?? 0} encrypted chunks`);
    }

    const read = await measured(async () => {
      const counts: Record<string, number> = {};
      for (const f of outputs) {
        let n = 0;
        for await (const line of files.lines(f)) if (line.length > 0) n++;
        counts[f.name] = n;
      }
      return counts;
    });
    console.log(
      `stream back (decrypt, split lines): ${(read.ms / 1000).toFixed(1)} s wall, ${(read.cpuMs / 1000).toFixed(1)} s CPU, peak RSS ${mib(read.peakRss)}; lines ${JSON.stringify(read.value)}`,
    );
    console.log(`kernel maxRSS of the process: ${mib(process.resourceUsage().maxRSS * 1024)}`);
    const byType = Object.fromEntries(result.output.map((o) => [o.type, o.count]));
    if (types.includes('Patient') && byType.Patient !== stored[0].patients) throw new Error('Patient lines differ from the stored count');
    if (types.includes('Appointment') && byType.Appointment !== stored[0].appointments)
      throw new Error('Appointment lines differ from the stored count');
    if (!values.keep)
      await files.remove(
        org.id,
        outputs.map((f) => f.id),
      );
  } finally {
    await app.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
