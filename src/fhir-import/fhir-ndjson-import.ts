import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditAction } from 'src/audit/trail/audit-action';
import type { AuditActorType } from 'src/audit/trail/audit-event';
import { TrailWriter } from 'src/audit/trail/trail-writer';
import { Clock } from 'src/common/clock/clock';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { issue, outcome } from 'src/fhir-import/domain/operation-outcome';
import { FhirImporter, ItemOutcome, ItemStatus, Prepared } from 'src/fhir-import/fhir-importer';
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
}

/** Resources per transaction: bounded memory and short transactions whatever the file's size. */
export const IMPORT_CHUNK = 1000;

/** A quick test for the lines of the first pass (patients); confirmed by parsing. */
const PATIENT_LINE = /"resourceType"\s*:\s*"Patient"/;

/**
 * The Bulk Data NDJSON import (docs/fhir-import.md): the files are read twice, streamed line by line. The first pass
 * writes every Patient, the second everything else, so that references resolve whatever the order of files and
 * lines; a resource whose patient is in neither the import nor the database is rejected (an OperationOutcome naming
 * its file and line). Each chunk of 1,000 resources is one transaction with its audit event; the touched patients are
 * rescored at the end. Run by the `fhir-import` job (API) and by `npm run fhir:import` (CLI).
 */
@Injectable()
export class FhirNdjsonImport {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly importer: FhirImporter,
    private readonly ingestion: IngestionService,
    private readonly trail: TrailWriter,
    private readonly clock: Clock,
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
    let resources = 0;
    const count = (type: string, status: ItemStatus): void => {
      const c = (counts[type] ??= {});
      c[status] = (c[status] ?? 0) + 1;
    };

    for (const pass of ['patients', 'others'] as const) {
      for (const file of files) {
        let lineNo = 0;
        let chunk: { prepared: Prepared; line: number }[] = [];
        const flush = async (): Promise<void> => {
          if (chunk.length === 0) return;
          const batch = chunk;
          chunk = [];
          const outcomes = await this.tenantDb.transaction(organizationId, async (db) => {
            const items = batch.map((b) => b.prepared);
            const written =
              pass === 'patients'
                ? await this.importer.writePatients(db, source, items)
                : await this.importer.writeOthers(db, source, items);
            written.touched.forEach((id) => touched.add(id));
            if (written.touched.length > 0) await this.recordAudit(db, organizationId, actor, written.touched);
            return written.outcomes;
          });
          for (let i = 0; i < batch.length; i++) await this.record(outcomes[i], file.name, batch[i].line, count, onOutcome);
          resources += batch.length;
          await onProgress(Math.min(1, readBytes / totalBytes), resources);
        };
        for await (const raw of file.lines()) {
          lineNo++;
          readBytes += Buffer.byteLength(raw) + 1;
          const line = raw.trim();
          if (line === '') continue;
          const candidate = PATIENT_LINE.test(line);
          if (pass === 'patients' && !candidate) continue;
          let value: unknown;
          try {
            value = JSON.parse(line);
          } catch {
            // Reported once: in the pass that handles the line.
            if ((pass === 'patients') === candidate) await this.record(this.notJson(), file.name, lineNo, count, onOutcome);
            continue;
          }
          const isPatient = (value as { resourceType?: unknown })?.resourceType === 'Patient';
          if ((pass === 'patients') !== isPatient) continue;
          chunk.push({ prepared: this.importer.prepare(value, source), line: lineNo });
          if (chunk.length >= IMPORT_CHUNK) await flush();
        }
        await flush();
      }
    }
    const ids = [...touched];
    await this.ingestion.rescore(organizationId, ids);
    await onProgress(1, resources);
    return { resources, counts, patients_rescored: ids.length };
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
