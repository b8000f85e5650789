import type { Readable } from 'node:stream';
import { HttpStatus, Injectable, OnModuleInit } from '@nestjs/common';
import type { AuthContext } from 'src/auth/auth-context';
import { Clock } from 'src/common/clock/clock';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';
import { FileStore } from 'src/file-store/file-store.service';
import type { FhirImportAccepted, FhirImportStatus } from 'src/fhir-import/dto/fhir-import.dto';
import { resolveSource } from 'src/fhir-import/fhir-source';
import { FhirNdjsonImport, LineSource } from 'src/fhir-import/fhir-ndjson-import';
import type { JobContext, JobHandler } from 'src/jobs/job-handler';
import { JobService } from 'src/jobs/job.service';
/** The API's path prefix (app.factory.ts). */
const API_PREFIX = 'api/v1';

/** The job type of a Bulk NDJSON import. */
export const FHIR_IMPORT_JOB = 'fhir-import';
/** Uploads and outcomes are kept this long. */
const KEEP_MS = 7 * 24 * 3600 * 1000;

const notFound = (): ProblemException =>
  new ProblemException(ProblemCode.NotFound, HttpStatus.NOT_FOUND, 'No FHIR import with this id in this organization');

/**
 * `POST /fhir/{organizationId}/import`: the NDJSON body is streamed into the file store (encrypted, 1 MiB chunks: the
 * request is never held whole), then a `fhir-import` job is enqueued on the JobService; it survives restarts (the
 * run is durable, the upload stored). `GET` answers its progress, then its result and the URL of its outcomes.
 */
@Injectable()
export class FhirImportService implements JobHandler, OnModuleInit {
  readonly type = FHIR_IMPORT_JOB;

  constructor(
    private readonly jobs: JobService,
    private readonly files: FileStore,
    private readonly ndjson: FhirNdjsonImport,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.jobs.register(this);
  }

  async start(auth: AuthContext, body: unknown, requestedSource: string | undefined): Promise<FhirImportAccepted> {
    const source = resolveSource(requestedSource, undefined);
    if (!body || typeof (body as Readable)[Symbol.asyncIterator] !== 'function') {
      throw new ProblemException(
        ProblemCode.UnsupportedMediaType,
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        'Send the NDJSON as application/fhir+ndjson (or application/x-ndjson)',
      );
    }
    const org = auth.organizationId;
    const writer = await this.files.create(org, {
      name: 'upload-1.ndjson',
      contentType: 'application/fhir+ndjson',
      expiresAt: new Date(this.clock.now().getTime() + KEEP_MS),
    });
    for await (const chunk of body as Readable) await writer.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    const totals = await writer.finish();
    if (totals.bytes === 0) {
      await this.files.remove(org, [writer.id]);
      throw new ProblemException(
        ProblemCode.ValidationFailed,
        HttpStatus.BAD_REQUEST,
        'The body is empty: send one FHIR resource per line',
        [{ field: 'body', message: 'empty body' }],
      );
    }
    const run = await this.jobs.enqueue(FHIR_IMPORT_JOB, org, {
      file_ids: [writer.id],
      source,
      actor: { type: auth.actor.type, id: auth.actor.id, role: auth.role },
    });
    const id = run?.id ?? '';
    return { import_id: id, status_url: this.statusUrl(org, id) };
  }

  statusUrl(organizationId: string, importId: string): string {
    return `/${API_PREFIX}/fhir/${organizationId}/import/${importId}`;
  }

  async status(organizationId: string, importId: string): Promise<FhirImportStatus> {
    const run = await this.jobs.get(organizationId, importId);
    if (!run || run.type !== FHIR_IMPORT_JOB) throw notFound();
    const done = run.status === 'succeeded';
    return {
      import_id: run.id,
      status: run.status,
      progress: done ? 1 : run.progress,
      result: done ? run.result : null,
      outcomes_url: done ? `${this.statusUrl(organizationId, run.id)}/outcomes` : null,
      error: run.error,
    };
  }

  /** The rejected lines' OperationOutcomes (NDJSON), streamed from the file store. */
  async outcomes(organizationId: string, importId: string): Promise<AsyncIterable<Buffer>> {
    const run = await this.jobs.get(organizationId, importId);
    if (!run || run.type !== FHIR_IMPORT_JOB || run.status !== 'succeeded') throw notFound();
    const file = (await this.files.ofRun(organizationId, run.id)).find((f) => f.name === 'outcomes.ndjson' && f.status === 'complete');
    if (!file) throw notFound();
    return this.files.read(file);
  }

  /** The job: reads the stored uploads, writes the outcomes file, returns the counts. Safe to run twice (upserts). */
  async run(context: JobContext): Promise<Record<string, unknown>> {
    const org = context.organizationId;
    const fileIds = (context.payload.file_ids as string[] | undefined) ?? [];
    const sources: LineSource[] = [];
    for (const id of fileIds) {
      const file = await this.files.get(org, id);
      if (!file) throw new Error(`The upload ${id} of this import is gone (expired or removed)`);
      sources.push({ name: file.name, bytes: Number(file.bytes), lines: () => this.files.lines(file) });
    }
    const actor = (context.payload.actor as { type: 'user' | 'api_key' | null; id: string | null; role: string | null } | undefined) ?? {
      type: null,
      id: null,
      role: null,
    };
    const outcomes = await this.files.create(org, {
      runId: context.runId,
      name: 'outcomes.ndjson',
      contentType: 'application/fhir+ndjson',
      expiresAt: new Date(this.clock.now().getTime() + KEEP_MS),
    });
    const summary = await this.ndjson.run(
      org,
      sources,
      String(context.payload.source ?? 'fhir'),
      actor,
      (line) => outcomes.writeLine(line),
      (fraction) => context.progress(Math.min(0.99, fraction)),
    );
    const totals = await outcomes.finish();
    return { ...summary, rejected_lines: totals.lines };
  }
}
