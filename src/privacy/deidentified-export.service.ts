import { Readable } from 'node:stream';
import { Injectable, StreamableFile } from '@nestjs/common';
import type { AuthContext } from 'src/auth/auth-context';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';
import { FileStore } from 'src/file-store/file-store.service';
import { JobService } from 'src/jobs/job.service';
import { JobType, type JobRunRow } from 'src/jobs/job.types';
import type { DeidentifiedExportPayload, DeidentifiedExportResult } from 'src/privacy/deidentified-export.job';
import { CreateDeidentifiedExportDto, DEFAULT_K } from 'src/privacy/dto/deidentified-export.dto';
import type { DeidentificationReportResponse, DeidentifiedExportResponse } from 'src/privacy/dto/deidentified-export.response';

const iso = (d: Date | null): string | null => (d === null ? null : new Date(d).toISOString());

/** The de-identified exports: started as `deidentified-export` jobs, their status, report and files. */
@Injectable()
export class DeidentifiedExportService {
  constructor(
    private readonly jobs: JobService,
    private readonly files: FileStore,
  ) {}

  async create(auth: AuthContext, body: CreateDeidentifiedExportDto): Promise<DeidentifiedExportResponse> {
    const payload: DeidentifiedExportPayload = {
      purpose: body.purpose ?? 'analytics',
      k: body.k ?? DEFAULT_K,
      dates: body.dates ?? 'year',
    };
    const run = await this.jobs.enqueue(JobType.DeidentifiedExport, auth.organizationId, { ...payload });
    if (!run) throw new Error('a de-identified export without a dedup key was not recorded');
    return this.toResponse(auth.organizationId, run);
  }

  async get(auth: AuthContext, jobId: string): Promise<DeidentifiedExportResponse> {
    return this.toResponse(auth.organizationId, await this.run(auth, jobId));
  }

  async report(auth: AuthContext, jobId: string): Promise<DeidentificationReportResponse> {
    const run = await this.run(auth, jobId);
    if (run.status !== 'succeeded' || !run.result) {
      throw new ProblemException(
        ProblemCode.Conflict,
        409,
        `The export is ${run.status === 'cancelled' ? 'failed' : run.status}: its report exists once it succeeded`,
      );
    }
    return (run.result as DeidentifiedExportResult).report;
  }

  async file(auth: AuthContext, jobId: string, fileName: string): Promise<StreamableFile> {
    const run = await this.run(auth, jobId);
    const wanted = ((run.result as DeidentifiedExportResult | null)?.files ?? []).find((f) => f.name === fileName);
    const file = wanted ? await this.files.get(auth.organizationId, wanted.id) : null;
    if (!file || file.status !== 'complete')
      throw ProblemException.notFound(ProblemCode.NotFound, 'No such file in this export (or it expired)');
    return new StreamableFile(Readable.from(this.files.read(file)), {
      type: 'application/x-ndjson',
      disposition: `attachment; filename="${file.name}"`,
    });
  }

  private async run(auth: AuthContext, jobId: string): Promise<JobRunRow> {
    const run = await this.jobs.get(auth.organizationId, jobId);
    if (!run || run.type !== JobType.DeidentifiedExport)
      throw ProblemException.notFound(ProblemCode.NotFound, 'No de-identified export with this id in this organization');
    return run;
  }

  private async toResponse(organizationId: string, run: JobRunRow): Promise<DeidentifiedExportResponse> {
    const payload = run.payload as unknown as DeidentifiedExportPayload;
    const result = run.status === 'succeeded' ? (run.result as DeidentifiedExportResult | null) : null;
    const base = `/api/v1/analytics/${organizationId}/deidentified-exports/${run.id}`;
    const live = result ? new Set((await this.files.ofRun(organizationId, run.id)).map((f) => f.id)) : new Set<string>();
    const files = result ? result.files.filter((f) => live.has(f.id)) : [];
    return {
      id: run.id,
      status: run.status === 'cancelled' ? 'failed' : run.status,
      purpose: payload.purpose,
      k: payload.k,
      dates: payload.dates,
      queued_at: new Date(run.queuedAt).toISOString(),
      finished_at: iso(run.finishedAt),
      progress: run.progress,
      error: run.status === 'cancelled' ? (run.error ?? 'Cancelled') : run.error,
      status_url: base,
      ...(result && files.length === result.files.length
        ? {
            manifest: {
              files: files.map((f) => ({ name: f.name, rows: f.rows, bytes: f.bytes, url: `${base}/files/${f.name}` })),
              rows: result.rows,
              generalized_rows: result.generalized_rows,
              suppressed_rows: result.suppressed_rows,
              expires_at: result.expires_at,
            },
          }
        : {}),
    };
  }
}
