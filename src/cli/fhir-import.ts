import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { withOrganizationContext } from 'src/cli/support/app-context';
import { CliUsageError, runCli } from 'src/cli/support/run-cli';
import { FhirBundleService } from 'src/fhir-import/fhir-bundle.service';
import { FhirNdjsonImport, ImportSummary } from 'src/fhir-import/fhir-ndjson-import';
import { collectFhirFiles, localFile, LocalFileError } from 'src/fhir-import/local-files';
import { resolveSource } from 'src/fhir-import/fhir-source';

function printSummary(summary: ImportSummary, seconds: number): void {
  process.stdout.write(
    `Imported ${summary.resources.toLocaleString('en-US')} resources in ${seconds.toFixed(1)} s (${Math.round(summary.resources / Math.max(seconds, 0.001)).toLocaleString('en-US')} resources/s)\n`,
  );
  for (const [type, counts] of Object.entries(summary.counts).sort()) {
    process.stdout.write(
      `  ${type}: ${Object.entries(counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}\n`,
    );
  }
  process.stdout.write(`  patients rescored: ${summary.patients_rescored}\n`);
  if (summary.patients_left_stale > 0)
    process.stdout.write(
      `  patients left stale: ${summary.patients_left_stale} (their rescore failed; the next organization-wide recompute scores them: npm run recompute -- --org <slug>)\n`,
    );
}

/**
 * `npm run fhir:import -- --org <slug> [--source <source>] [--outcomes <file>] <file-or-folder>...`: the FHIR import
 * from local files (docs/fhir.md): `.json` transaction or batch Bundles, and Bulk Data exports (`.ndjson`
 * files, or folders of them, read twice line by line). A progress bar with resources/s and the ETA on stderr; the
 * counts per resource type and outcome on stdout; the rejected lines' OperationOutcomes on stderr (or `--outcomes`).
 */
runCli(async () => {
  const { values, positionals } = parseArgs({
    options: { org: { type: 'string' }, source: { type: 'string' }, outcomes: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (!values.org) throw new CliUsageError('--org <slug> is required');
  if (positionals.length === 0) throw new CliUsageError('Name at least one .json Bundle, .ndjson file or folder of a Bulk export');
  let files: ReturnType<typeof collectFhirFiles>;
  try {
    files = collectFhirFiles(positionals);
  } catch (err) {
    if (err instanceof LocalFileError) throw new CliUsageError(err.message);
    throw err;
  }
  const source = resolveSource(values.source, undefined);
  await withOrganizationContext(values.org, async (context, organization) => {
    const ndjson = context.get(FhirNdjsonImport);
    for (const path of files.bundles) {
      const reply = await context
        .get(FhirBundleService)
        .process(organization.id, JSON.parse(readFileSync(path, 'utf8')) as unknown, values.source, (db, ids) =>
          ndjson.recordAudit(db, organization.id, { type: null, id: null, role: 'cli' }, ids),
        );
      const statuses = reply.status === 200 && 'entry' in reply.body ? (reply.body.entry ?? []).map((e) => e.response?.status ?? '') : [];
      const tally = new Map<string, number>();
      statuses.forEach((s) => tally.set(s, (tally.get(s) ?? 0) + 1));
      process.stdout.write(
        `${path}: ${reply.status === 200 ? [...tally].map(([s, n]) => `${n} × ${s}`).join(', ') : `refused: ${JSON.stringify(reply.body)}`}\n`,
      );
    }
    if (files.ndjson.length > 0) {
      const sources = files.ndjson.map(localFile);
      const total = sources.reduce((a, f) => a + f.bytes, 0) * 2;
      const started = Date.now();
      const bar = new SingleBar(
        {
          format: 'FHIR import [{bar}] {percentage}% | {resources} resources | {rate} resources/s | eta {eta_formatted}',
          stream: process.stderr,
          noTTYOutput: true,
          notTTYSchedule: 5000,
        },
        Presets.shades_classic,
      );
      bar.start(total, 0, { resources: 0, rate: 0 });
      const out: string[] = [];
      const summary = await ndjson.run(
        organization.id,
        sources,
        source,
        { type: null, id: null, role: 'cli' },
        (line) => {
          if (values.outcomes) out.push(line);
          else process.stderr.write(`${line}\n`);
          return Promise.resolve();
        },
        (fraction, resources) => {
          bar.update(Math.round(fraction * total), {
            resources,
            rate: Math.round(resources / Math.max((Date.now() - started) / 1000, 0.001)),
          });
          return Promise.resolve();
        },
      );
      bar.stop();
      if (values.outcomes) (await import('node:fs')).writeFileSync(values.outcomes, out.join('\n') + (out.length ? '\n' : ''));
      printSummary(summary, (Date.now() - started) / 1000);
    }
  });
});
