import type { Readable } from 'node:stream';
import { HttpStatus, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { AuthContext } from 'src/auth/auth-context';
import { Clock } from 'src/common/clock/clock';
import { SETTINGS } from 'src/config/config.module';
import type { Settings } from 'src/config/settings';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';
import { FileStore } from 'src/file-store/file-store.service';
import type { FhirImportAccepted, FhirImportStatus } from 'src/fhir-import/dto/fhir-import.dto';
import { resolveSource } from 'src/fhir-import/fhir-source';
import { FhirNdjsonImport, LineSource } from 'src/fhir-import/fhir-ndjson-import';
import { tooLarge, UploadFile } from 'src/fhir-import/fhir-upload';
import type { JobContext, JobHandler } from 'src/jobs/job-handler';
import { JobService } from 'src/jobs/job.service';
/** The API's path prefix (app.factory.ts). */
const API_PREFIX = 'api/v1';

/** The job type of a Bulk NDJSON import. */
export const FHIR_IMPORT_JOB = 'fhir-import';
/** Uploads and outcomes are kept this long. */
const KEEP_MS = 7 * 24 * 3600 * 1000;

const invalid = (detail: string, field: string): ProblemException =>
  new ProblemException(ProblemCode.ValidationFailed, HttpStatus.BAD_REQUEST, detail, [{ in: 'body', field, message: detail }]);

/** The first byte that is not white space (nor a UTF-8 byte order mark), or null when the chunk has none. */
function firstContentByte(data: Buffer): number | null {
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    if (b === 0xef && data[i + 1] === 0xbb && data[i + 2] === 0xbf) {
      i += 2;
      continue;
    }
    return b;
  }
  return null;
}

const notFound = (): ProblemException =>
  new ProblemException(ProblemCode.NotFound, HttpStatus.NOT_FOUND, 'No FHIR import with this id in this organization');

/**
 * `POST /fhir/{organizationId}/import`: the NDJSON body, or each file of a multipart upload, is streamed into the file
 * store (encrypted, 1 MiB chunks: the request is never held whole), then a `fhir-import` job is enqueued on the JobService; it survives restarts (the
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
    @Inject(SETTINGS) private readonly settings: Settings,
  ) {}

  onModuleInit(): void {
    this.jobs.register(this);
  }

  /** An NDJSON body (the raw request stream): one file, `upload-1.ndjson`. */
  async start(auth: AuthContext, body: unknown, requestedSource: string | undefined): Promise<FhirImportAccepted> {
    const source = resolveSource(requestedSource, undefined);
    if (!body || typeof (body as Readable)[Symbol.asyncIterator] !== 'function') {
      throw new ProblemException(
        ProblemCode.UnsupportedMediaType,
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        'Send the NDJSON as application/fhir+ndjson (or application/x-ndjson), or its files as multipart/form-data',
      );
    }
    return this.accept(auth, source, [{ name: 'upload-1.ndjson', part: 0, data: body as Readable }]);
  }

  /** A multipart upload: one NDJSON file per part (fhir-upload.ts), each stored under its own name. */
  async startFiles(auth: AuthContext, files: AsyncIterable<UploadFile>, requestedSource: string | undefined): Promise<FhirImportAccepted> {
    return this.accept(auth, resolveSource(requestedSource, undefined), files);
  }

  /**
   * Streams each file into the file store (encrypted 1 MiB chunks: never held whole), checking as it goes that it is
   * NDJSON (its first character opens a JSON object), that the files' names differ and that their sum stays within
   * FHIR_IMPORT_LIMIT_BYTES; then enqueues the job. Any refusal (or a failure) removes what was stored: no job, no
   * file left.
   */
  private async accept(auth: AuthContext, source: string, files: AsyncIterable<UploadFile> | Iterable<UploadFile>): Promise<FhirImportAccepted> {
    const org = auth.organizationId;
    const limit = this.settings.fhirImportLimitBytes;
    const stored: string[] = [];
    const names = new Set<string>();
    let total = 0;
    try {
      for await (const file of files) {
        // A part must look like NDJSON (its first character opens a JSON object; not a CSV, a zip or a gzip); the body's
        // first line, like any other, is an outcome of its own when it is not a resource.
        const multipart = file.part > 0;
        const label = multipart ? `Part ${file.part} ("${file.name}")` : 'The body';
        const field = multipart ? file.name : 'body';
        if (names.has(file.name)) throw invalid(`${label}: another part has the same file name: give each file its own name`, field);
        names.add(file.name);
        const writer = await this.files.create(org, {
          name: file.name,
          contentType: 'application/fhir+ndjson',
          expiresAt: new Date(this.clock.now().getTime() + KEEP_MS),
        });
        stored.push(writer.id);
        let opened = false;
        for await (const chunk of file.data) {
          const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
          total += data.length;
          if (total > limit) throw tooLarge(limit);
          if (!opened) {
            const first = firstContentByte(data);
            if (first !== null) {
              if (multipart && first !== 0x7b /* { */) {
                const what = first === 0x1f ? 'it is compressed (gzip): send it uncompressed' : 'its first line is not a JSON object';
                throw invalid(`${label} is not NDJSON (one FHIR resource per line): ${what}`, field);
              }
              opened = true;
            }
          }
          await writer.write(data);
        }
        await writer.finish();
        if (!opened) throw invalid(`${label} is empty: send one FHIR resource per line`, field);
      }
      if (stored.length === 0) throw invalid('The upload has no files: send one NDJSON file per part', 'body');
      const run = await this.jobs.enqueue(FHIR_IMPORT_JOB, org, {
        file_ids: stored,
        source,
        actor: { type: auth.actor.type, id: auth.actor.id, role: auth.role },
      });
      const id = run?.id ?? '';
      return { import_id: id, status_url: this.statusUrl(org, id) };
    } catch (err) {
      await this.files.remove(org, stored);
      throw err;
    }
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
    return { ...summary, rejected_lines: totals.lines, files: sources.map((f) => ({ name: f.name, bytes: f.bytes })) };
  }
}
