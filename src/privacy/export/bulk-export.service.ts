import { HttpStatus, Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import type { AuthContext } from 'src/auth/auth-context';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';
import { FileStore } from 'src/file-store/file-store.service';
import type { StoredFileRow } from 'src/file-store/stored-files.repository';
import { JobService } from 'src/jobs/job.service';
import { JobStatus, JobType, type JobRunRow } from 'src/jobs/job.types';
import { parseBulkExportRequest, type BulkExportRequest, type BulkExportResult } from 'src/privacy/export/bulk-export.request';
import type { CreateBulkExportBody } from 'src/privacy/export/dto/export.dto';
import type {
  BulkExportDeletedResponse,
  BulkExportManifestResponse,
  BulkExportStatusResponse,
} from 'src/privacy/export/dto/export.response';

/** Seconds a client is asked to wait before asking again while an export runs. */
export const EXPORT_RETRY_AFTER_SECONDS = 5;

export const exportPath = (organizationId: string, runId: string): string => `/api/v1/exports/${organizationId}/${runId}`;

/** What the status route answers: still running (202 with progress) or done (200 with the manifest). */
export type BulkExportState = { running: BulkExportStatusResponse } | { manifest: BulkExportManifestResponse };

const notFound = (): ProblemException =>
  ProblemException.notFound(
    ProblemCode.ExportNotFound,
    'No export with this id in this organization (or it was deleted, or its files expired)',
  );

/**
 * The FHIR Bulk Data export pattern over the job queue (`bulk-export` runs, BulkExportJob) and the encrypted file
 * store: kick-off (202 + Content-Location), status (202 with X-Progress while it runs, then the manifest), the NDJSON
 * files (to `privacy:manage` callers of the organization only), and DELETE (cancel, delete the files).
 */
@Injectable()
export class BulkExportService {
  constructor(
    private readonly jobs: JobService,
    private readonly files: FileStore,
  ) {}

  async create(auth: AuthContext, body: CreateBulkExportBody): Promise<BulkExportStatusResponse> {
    const request: BulkExportRequest = {
      types: body.types && body.types.length > 0 ? [...new Set(body.types)] : null,
      since: body.since ? new Date(body.since).toISOString() : null,
      patient_ids: body.patient_ids ? [...new Set(body.patient_ids.map((id) => id.toLowerCase()))] : null,
    };
    const run = await this.jobs.enqueue(JobType.BulkExport, auth.organizationId, { ...request });
    if (!run) throw new Error('The export job was not recorded');
    return this.statusOf(run, request);
  }

  async state(auth: AuthContext, runId: string, baseUrl: string): Promise<BulkExportState> {
    const run = await this.run(auth, runId);
    const request = parseBulkExportRequest(run.payload);
    if (run.status === JobStatus.Queued || run.status === JobStatus.Running) return { running: this.statusOf(run, request) };
    if (run.status === JobStatus.Failed) {
      throw new ProblemException(
        ProblemCode.ExportFailed,
        HttpStatus.INTERNAL_SERVER_ERROR,
        `The export failed: ${run.error ?? 'unknown reason'}`,
      );
    }
    if (run.status !== JobStatus.Succeeded) throw notFound();
    const result = run.result as unknown as BulkExportResult;
    const present = new Set((await this.files.ofRun(auth.organizationId, run.id)).filter((f) => f.status === 'complete').map((f) => f.id));
    if (result.output.some((o) => !present.has(o.file_id))) throw notFound();
    const base = `${baseUrl}${exportPath(auth.organizationId, run.id)}`;
    return {
      manifest: {
        transactionTime: result.transaction_time,
        request: base,
        requiresAccessToken: true,
        output: result.output.map((o) => ({ type: o.type, url: `${base}/files/${o.name}`, count: o.count })),
        error: [],
        request_parameters: request,
      },
    };
  }

  /** A finished export's file, streamed as it is decrypted chunk by chunk. */
  async file(auth: AuthContext, runId: string, fileName: string): Promise<{ file: StoredFileRow; stream: Readable }> {
    const run = await this.run(auth, runId);
    if (run.status !== JobStatus.Succeeded) throw notFound();
    const file = (await this.files.ofRun(auth.organizationId, run.id)).find((f) => f.name === fileName && f.status === 'complete');
    if (!file) throw notFound();
    return { file, stream: Readable.from(this.files.read(file)) };
  }

  /** Cancels the export if it runs and deletes its files. */
  async remove(auth: AuthContext, runId: string): Promise<BulkExportDeletedResponse> {
    const run = await this.run(auth, runId);
    if (run.status === JobStatus.Cancelled) throw notFound();
    const cancelled = await this.jobs.cancel(auth.organizationId, run.id);
    const files = await this.files.ofRun(auth.organizationId, run.id);
    const deleted = await this.files.remove(
      auth.organizationId,
      files.map((f) => f.id),
    );
    return { id: run.id, cancelled, files_deleted: deleted };
    // An ended run stays as it was in job_runs, but with its files gone its status answers 404 from now on (state()).
  }

  private async run(auth: AuthContext, runId: string): Promise<JobRunRow> {
    const run = await this.jobs.get(auth.organizationId, runId);
    if (!run || run.type !== JobType.BulkExport) throw notFound();
    return run;
  }

  private statusOf(run: JobRunRow, request: BulkExportRequest): BulkExportStatusResponse {
    return {
      id: run.id,
      status: run.status === JobStatus.Running ? 'running' : 'queued',
      progress: run.progress ?? 0,
      status_url: exportPath(run.organizationId, run.id),
      request,
    };
  }
}
