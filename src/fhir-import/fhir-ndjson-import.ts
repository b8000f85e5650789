import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { SETTINGS } from 'src/config/config.module';
import type { Settings } from 'src/config/settings';
import { AuditAction } from 'src/audit/trail/audit-action';
import type { AuditActorType } from 'src/audit/trail/audit-event';
import { TrailWriter } from 'src/audit/trail/trail-writer';
import { Clock } from 'src/common/clock/clock';
import { Database } from 'src/database/database';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { issue, outcome } from 'src/fhir-import/domain/operation-outcome';
import { FhirImporter, ItemOutcome, ItemStatus } from 'src/fhir-import/fhir-importer';
import { LineResult, PATIENT_LINE, Prepared } from 'src/fhir-import/fhir-prepare';
import { fhirValidationReady } from 'src/fhir-import/fhir-schema';
import { PreparePool } from 'src/fhir-import/fhir-prepare-pool';
import { ImportStatistics } from 'src/fhir-import/import-statistics';
import { IngestionService } from 'src/ingestion/ingestion.service';

/** A file of NDJSON resources: a stored upload, or a local file for the CLI. */
export interface LineSource {
  name: string;
  /** Its size in bytes (for progress). */
  bytes: number;
  lines(): AsyncIterable<string>;
}

/** Who started the import: the audit events name them. */
export interface ImportActor {
  type: AuditActorType | null;
  id: string | null;
  role: string | null;
}

export type ImportCounts = Record<string, Partial<Record<ItemStatus, number>>>;

export interface ImportSummary {
  resources: number;
  /** Per resource type, per outcome. */
  counts: ImportCounts;
  /** Patients rescored at the end. */
  patients_rescored: number;
  /**
   * Patients whose records changed but whose rescore at the end failed (for example a statement timeout under load):
   * their scores stay as they were until the next organization-wide recompute (the nightly job).
   */
  patients_left_stale: number;
}

/** Resources per transaction: bounded memory and short transactions whatever the file's size. */
export const IMPORT_CHUNK = 1000;

/** Below this many bytes the lines are prepared in the calling thread: starting workers costs seconds. */
const WORKERS_FROM_BYTES = 4 * 1_048_576;
/** While the first pass skips lines that are not patients, the progress is reported every this many bytes read. */
const PROGRESS_EVERY_BYTES = 16 * 1_048_576;

/**
 * The Bulk Data NDJSON import (docs/fhir.md): the files are read twice, streamed line by line. The first pass
 * writes every Patient, the second everything else, so that references resolve whatever the order of files and
 * lines; a resource whose patient is in neither the import nor the database is rejected (an OperationOutcome naming
 * its file and line). Each chunk of 1,000 resources is one transaction with its audit event; the touched patients are
 * rescored at the end. Run by the `fhir-import` job (API) and by `npm run fhir:import` (CLI).
 */
@Injectable()
export class FhirNdjsonImport {
  private readonly logger = new Logger(FhirNdjsonImport.name);

  constructor(
    private readonly tenantDb: TenantDb,
    private readonly database: Database,
    private readonly importer: FhirImporter,
    private readonly ingestion: IngestionService,
    private readonly trail: TrailWriter,
    private readonly clock: Clock,
    @Inject(SETTINGS) private readonly settings: Settings,
  ) {}

  async run(
    organizationId: string,
    files: LineSource[],
    source: string,
    actor: ImportActor,
    onOutcome: (line: string) => Promise<void>,
    onProgress: (fraction: number, resources: number) => Promise<void>,
  ): Promise<ImportSummary> {
    const counts: ImportCounts = {};
    const touched = new Set<string>();
    const totalBytes = Math.max(1, files.reduce((a, f) => a + f.bytes, 0) * 2);
    let readBytes = 0;
    let reportedBytes = 0;
    let resources = 0;
    const count = (type: string, status: ItemStatus): void => {
      const c = (counts[type] ??= {});
      c[status] = (c[status] ?? 0) + 1;
    };

    const statistics = new ImportStatistics(this.database);
    const pool = new PreparePool(this.workersFor(files));
    try {
      for (const pass of ['patients', 'others'] as const) {
        for (const file of files) {
          // Batches of lines are prepared ahead (in the pool's workers) while the previous chunk is written: at most
          // `depth` batches in flight, so memory stays bounded whatever the file's size.
          const inFlight: { results: Promise<LineResult[]>; lines: number[] }[] = [];
          const depth = pool.size + 1;
          const write = async (): Promise<void> => {
            const head = inFlight.shift();
            if (!head) return;
            const results = await head.results;
            const chunk: { prepared: Prepared; line: number }[] = [];
            for (let i = 0; i < results.length; i++) {
              const r = results[i];
              if (r === null) continue;
              if (r === 'not-json') await this.record(this.notJson(), file.name, head.lines[i], count, onOutcome);
              else chunk.push({ prepared: r, line: head.lines[i] });
            }
            if (chunk.length === 0) return;
            const outcomes = await this.tenantDb.transaction(organizationId, async (db) => {
              const items = chunk.map((b) => b.prepared);
              const written =
                pass === 'patients'
                  ? await this.importer.writePatients(db, source, items)
                  : await this.importer.writeOthers(db, source, items);
              written.touched.forEach((id) => touched.add(id));
              if (written.touched.length > 0) await this.recordAudit(db, organizationId, actor, written.touched);
              return written.outcomes;
            });
            for (let i = 0; i < chunk.length; i++) await this.record(outcomes[i], file.name, chunk[i].line, count, onOutcome);
            resources += chunk.length;
            await statistics.written(resources);
            await onProgress(Math.min(1, readBytes / totalBytes), resources);
          };
          let lines: string[] = [];
          let lineNos: number[] = [];
          const send = async (): Promise<void> => {
            if (lines.length === 0) return;
            const results = pool.prepare(lines, pass, source);
            // Awaited in order by `write`; marked handled now so that a failure while an earlier chunk is written (the
            // import then stops) is not an unhandled rejection.
            results.catch(() => undefined);
            inFlight.push({ results, lines: lineNos });
            lines = [];
            lineNos = [];
            if (inFlight.length >= depth) await write();
          };
          let lineNo = 0;
          for await (const raw of file.lines()) {
            lineNo++;
            readBytes += raw.length + 1;
            // The first pass sends only the lines that may be patients (confirmed by parsing); the progress still
            // moves while it skips the others (a large file's first pass reads gigabytes before a patient line).
            if (pass === 'patients' && !PATIENT_LINE.test(raw)) {
              if (readBytes - reportedBytes >= PROGRESS_EVERY_BYTES) {
                reportedBytes = readBytes;
                await onProgress(Math.min(1, readBytes / totalBytes), resources);
              }
              continue;
            }
            lines.push(raw);
            lineNos.push(lineNo);
            if (lines.length >= IMPORT_CHUNK) await send();
          }
          await send();
          while (inFlight.length > 0) await write();
        }
      }
      // Statistics that know the clinic, for the rescore below and the follow-up jobs (ImportStatistics.settle). What is
      // written is committed: a failure here (an ANALYZE cancelled, the owner connection lost) is logged, not the
      // import's.
      await statistics.settle(organizationId).catch((error: unknown) =>
        this.logger.warn(`Statistics after the import of organization ${organizationId} not refreshed: ${(error as Error).message}`),
      );
    } finally {
      await pool.close();
      await statistics.close();
    }
    const ids = [...touched];
    const rescored = await this.ingestion.rescore(organizationId, ids);
    await onProgress(1, resources);
    return { resources, counts, patients_rescored: rescored, patients_left_stale: ids.length - rescored };
  }

  /** Worker threads for this import: FHIR_IMPORT_WORKERS, none for small files. */
  private workersFor(files: LineSource[]): number {
    // A small import is prepared in this thread only once it holds the definitions: loading them here (seconds of
    // CPU) would block an API process's event loop, so that other requests stalled and the enqueuing request's own
    // audit append timed out (503) on the first import after a start.
    const small = files.reduce((a, f) => a + f.bytes, 0) < WORKERS_FROM_BYTES;
    return small && fhirValidationReady() ? 0 : this.settings.fhirImportWorkers;
  }

  private notJson(): ItemOutcome {
    return { status: 'rejected', location: null, resourceType: 'unknown', issues: [issue('structure', 'The line is not a JSON resource')] };
  }

  /** Counts an outcome; a rejected one becomes an OperationOutcome line naming the file and line. */
  private async record(
    o: ItemOutcome,
    file: string,
    line: number,
    count: (t: string, s: ItemStatus) => void,
    onOutcome: (line: string) => Promise<void>,
  ): Promise<void> {
    count(o.resourceType, o.status);
    if (o.status !== 'rejected') return;
    const where = `${file}:${line}`;
    const body = outcome((o.issues ?? []).map((i) => ({ ...i, diagnostics: `${where}${o.location ? ` (${o.location})` : ''}` })));
    await onOutcome(
      JSON.stringify({ ...body, extension: [{ url: 'https://patient-journey.example/fhir/import-line', valueString: where }] }),
    );
  }

  /** One audit event for a write of the import (in its transaction): the patients it changed, the actor who started it. */
  async recordAudit(
    db: Parameters<TrailWriter['append']>[1],
    organizationId: string,
    actor: ImportActor,
    patientIds: string[],
  ): Promise<void> {
    await this.trail.append(
      {
        organizationId,
        id: randomUUID(),
        occurredAt: this.clock.now(),
        actorType: actor.type,
        actorId: actor.id,
        actorRole: actor.role,
        action: AuditAction.Update,
        resource: 'fhir-import',
        method: 'JOB',
        route: 'fhir-import',
        patientIds,
        query: {},
        outcome: 'success',
        statusCode: 200,
        requestId: null,
        ip: null,
        userAgent: null,
      },
      db,
    );
  }
}
