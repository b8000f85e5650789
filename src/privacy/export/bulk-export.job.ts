import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Clock } from 'src/common/clock/clock';
import { SETTINGS } from 'src/config/config.module';
import type { Settings } from 'src/config/settings';
import { Database } from 'src/database/database';
import { FileStore, type StoredFileWriter } from 'src/file-store/file-store.service';
import type { JobContext, JobHandler } from 'src/jobs/job-handler';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { EXPORT_RESOURCE_TYPES, KIND_RESOURCE_TYPES, toFhirResources } from 'src/privacy/export/domain/fhir-mapping';
import { parseBulkExportRequest, type BulkExportOutput, type BulkExportResult } from 'src/privacy/export/bulk-export.request';
import { toExportRecord } from 'src/privacy/export/export-record';
import { EXPORT_TABLE_NAMES, ExportRecordsRepository } from 'src/privacy/export/export-records.repository';
import { PhiKeyring } from 'src/records/phi/phi-keyring';

const APPLICATION_NAME = 'bulk-export';

/**
 * `bulk-export`: an organization's records as FHIR NDJSON, one file per resource type, in the encrypted file store
 * (FileStore: 1 MiB AES-256-GCM chunks; nothing decrypted touches a disk), expiring after EXPORT_FILE_TTL_HOURS.
 *
 * Streamed: every table is read in keyset batches inside one REPEATABLE READ transaction on a connection of its own
 * (one snapshot: the manifest's transactionTime), each batch mapped and appended to its files, so memory holds one
 * batch and one pending chunk per file whatever the organization's size.
 *
 * Idempotent and restartable: an attempt starts by deleting the files earlier attempts of the run left (a process that
 * died mid-run), and an attempt that fails or is cancelled deletes what it wrote. After a restart JobService re-queues
 * the run: it starts again from the beginning and ends succeeded, or failed with its reason after JOB_ATTEMPTS.
 */
@Injectable()
export class BulkExportJob implements JobHandler, OnModuleInit {
  readonly type = JobType.BulkExport;

  constructor(
    private readonly jobs: JobService,
    private readonly database: Database,
    private readonly files: FileStore,
    private readonly records: ExportRecordsRepository,
    private readonly keyring: PhiKeyring,
    private readonly clock: Clock,
    @Inject(SETTINGS) private readonly settings: Settings,
  ) {}

  onModuleInit(): void {
    this.jobs.register(this);
  }

  /** A payload that cannot be an export (its input is wrong): a retry cannot help. */
  retryable(error: unknown): boolean {
    return !(error instanceof TypeError);
  }

  async run(context: JobContext): Promise<Record<string, unknown>> {
    const request = parseBulkExportRequest(context.payload);
    const organizationId = context.organizationId;
    await this.removeFiles(organizationId, context.runId);
    try {
      return { ...(await this.export(context, request)) };
    } catch (err) {
      await this.removeFiles(organizationId, context.runId).catch(() => undefined);
      throw err;
    }
  }

  private async export(context: JobContext, request: ReturnType<typeof parseBulkExportRequest>): Promise<BulkExportResult> {
    const organizationId = context.organizationId;
    const types = new Set(request.types ?? EXPORT_RESOURCE_TYPES);
    const kinds = EXPORT_TABLE_NAMES.filter((kind) => KIND_RESOURCE_TYPES[kind].some((t) => types.has(t)));
    const filter = { patientIds: request.patient_ids, since: request.since === null ? null : new Date(request.since) };
    const expiresAt = new Date(this.clock.now().getTime() + this.settings.exports.fileTtlHours * 3_600_000);
    const writers = new Map<string, StoredFileWriter>();
    const writerFor = async (type: string): Promise<StoredFileWriter> => {
      let writer = writers.get(type);
      if (!writer) {
        writer = await this.files.create(organizationId, {
          runId: context.runId,
          name: `${type}.ndjson`,
          contentType: 'application/fhir+ndjson',
          expiresAt,
        });
        writers.set(type, writer);
      }
      return writer;
    };

    const connection = await this.database.batchConnection(organizationId, APPLICATION_NAME);
    let transactionTime = this.clock.now();
    try {
      await connection.transaction(async () => {
        await connection.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
        // The snapshot's time: every resource in the files is as it was then.
        const [{ now }] = await connection.query<{ now: Date }>('SELECT now() AS now');
        transactionTime = now;
        const currency = await this.records.currency(connection);
        for (const [index, kind] of kinds.entries()) {
          for await (const rows of this.records.batches(connection, kind, filter)) {
            // The batch's patient keys in one statement (those not in the key cache).
            // (Kinds without a patient_id column, referrals, hold no encrypted value.)
            const owners = rows.map((r) => (kind === 'patients' ? r.id : r.patient_id)).filter((id): id is string => typeof id === 'string');
            const keys = await this.keyring.keysFor(connection, owners);
            // The batch's lines by resource type, each file written once per batch (one buffer, not one per line).
            const lines = new Map<string, string[]>();
            for (const row of rows) {
              for (const resource of toFhirResources(kind, toExportRecord(kind, row, keys, organizationId), { currency })) {
                if (!types.has(resource.resourceType)) continue;
                let of = lines.get(resource.resourceType);
                if (!of) lines.set(resource.resourceType, (of = []));
                of.push(JSON.stringify(resource));
              }
            }
            for (const [type, of] of lines) await (await writerFor(type)).writeLines(of);
            await context.progress(index / kinds.length); // the safe point: a cancellation stops here
          }
          await context.progress((index + 1) / kinds.length);
        }
      });
    } finally {
      await connection.end();
    }

    const output: BulkExportOutput[] = [];
    for (const type of EXPORT_RESOURCE_TYPES) {
      const writer = writers.get(type);
      if (!writer) continue;
      const totals = await writer.finish();
      output.push({ type, file_id: writer.id, name: writer.file.name, count: totals.lines });
    }
    return { transaction_time: transactionTime.toISOString(), output };
  }

  private async removeFiles(organizationId: string, runId: string): Promise<void> {
    const files = await this.files.ofRun(organizationId, runId);
    await this.files.remove(
      organizationId,
      files.map((f) => f.id),
    );
  }
}
