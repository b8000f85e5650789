import type { Readable } from 'node:stream';
import { HttpStatus } from '@nestjs/common';
import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { FieldError, ProblemCode, ProblemException } from 'src/common/problem/problem';

/** One file of an import's upload, as it arrives: its name (in the outcomes and the result) and its bytes. */
export interface UploadFile {
  name: string;
  /** Which part of the request it is (1-based), for the problems that name it. */
  part: number;
  data: AsyncIterable<Buffer | string>;
}

/** At most this many files (parts) in one multipart upload: a Bulk export has one per resource type. */
export const MAX_UPLOAD_FILES = 100;

/** The NDJSON media types an import takes (a part's `Content-Type`, or the body's). */
export const NDJSON_TYPES: readonly string[] = ['application/fhir+ndjson', 'application/x-ndjson', 'application/ndjson'];
/** Generic types a client gives a file it does not know: taken for a part whose name ends in `.ndjson`. */
const GENERIC_TYPES: readonly string[] = ['application/octet-stream', 'text/plain', ''];

/** The upload over FHIR_IMPORT_LIMIT_BYTES: 413, nothing kept. */
export const tooLarge = (limit: number): ProblemException =>
  new ProblemException(
    ProblemCode.PayloadTooLarge,
    HttpStatus.PAYLOAD_TOO_LARGE,
    `The upload is larger than FHIR_IMPORT_LIMIT_BYTES (${limit} bytes): nothing was kept; split the export into several imports`,
  );

const bad = (detail: string, field: string, message: string): ProblemException =>
  new ProblemException(ProblemCode.ValidationFailed, HttpStatus.BAD_REQUEST, detail, [{ in: 'body', field, message } satisfies FieldError]);

/** The part's label in problems: its position, and its file name when it has one. */
const partLabel = (part: number, name?: string): string => (name ? `Part ${part} ("${name}")` : `Part ${part}`);

/** A file name as the outcomes and the file store show it: the last path segment, no control characters, at most 200. */
export function uploadFileName(raw: string | undefined, part: number): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return clean === '' ? `part-${part}.ndjson` : clean.slice(0, 200);
}

/**
 * The files of a `multipart/form-data` upload (@fastify/multipart, registered by FhirHttp), one per part, streamed:
 * each part's bytes are handed on as they arrive (the caller must read a part whole before asking for the next), so
 * memory stays bounded whatever the size. A part that is a form field, or whose type is not NDJSON, is a 400 / 415
 * naming it; too many parts or a part over the limit a 413; a malformed body a 400. The caller removes what it stored.
 */
export async function* multipartFiles(request: FastifyRequest, limitBytes: number): AsyncGenerator<UploadFile> {
  let part = 0;
  try {
    const parts = request.parts({
      limits: {
        fileSize: limitBytes,
        files: MAX_UPLOAD_FILES,
        parts: MAX_UPLOAD_FILES,
        fields: MAX_UPLOAD_FILES,
        // A field is refused anyway: never buffer a large one.
        fieldSize: 1024,
      },
    });
    for await (const p of parts as AsyncIterable<Multipart>) {
      part++;
      if (p.type !== 'file') {
        throw bad(
          `${partLabel(part)} (the form field "${p.fieldname}") is not a file: send each NDJSON file as a file part (with a filename)`,
          p.fieldname,
          'not a file',
        );
      }
      const name = uploadFileName(p.filename, part);
      const type = (p.mimetype ?? '').split(';')[0].trim().toLowerCase();
      if (!NDJSON_TYPES.includes(type) && !(GENERIC_TYPES.includes(type) && /\.ndjson$/i.test(name))) {
        throw new ProblemException(
          ProblemCode.UnsupportedMediaType,
          HttpStatus.UNSUPPORTED_MEDIA_TYPE,
          `${partLabel(part, name)} is ${type || 'untyped'}, not NDJSON: send each file as application/fhir+ndjson (or a .ndjson file)`,
          [{ in: 'body', field: p.fieldname, message: `not NDJSON (${type || 'no type'})` }],
        );
      }
      yield { name, part, data: mapErrors(p.file, limitBytes) };
    }
  } catch (err) {
    throw multipartProblem(err, limitBytes, part);
  }
}

/** A part's bytes, with the plugin's errors (the part over `fileSize`, a body cut short) as problems. */
async function* mapErrors(stream: Readable, limitBytes: number): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    throw multipartProblem(err, limitBytes);
  }
  // @fastify/multipart truncates a file over `fileSize` and marks it so (when it does not throw).
  if ((stream as Readable & { truncated?: boolean }).truncated) throw tooLarge(limitBytes);
}

/** @fastify/multipart's and busboy's errors as problem+json (their messages name no content, only the form's shape). */
function multipartProblem(err: unknown, limitBytes: number, part?: number): unknown {
  if (err instanceof ProblemException) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code ?? '') {
    case 'FST_REQ_FILE_TOO_LARGE':
      return tooLarge(limitBytes);
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new ProblemException(
        ProblemCode.PayloadTooLarge,
        HttpStatus.PAYLOAD_TOO_LARGE,
        `Too many parts: one upload takes at most ${MAX_UPLOAD_FILES} files; nothing was kept`,
      );
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new ProblemException(ProblemCode.UnsupportedMediaType, HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'The request is not multipart/form-data');
    default:
      break;
  }
  // Busboy's refusals of a malformed body ("Unexpected end of form", "Malformed part header", no boundary): 400.
  if (err instanceof Error && (e.statusCode === undefined || (e.statusCode >= 400 && e.statusCode < 500))) {
    return bad(
      `The multipart body is malformed${part ? ` (after part ${part})` : ''}: ${e.message ?? 'unreadable'}`,
      'body',
      'malformed multipart/form-data',
    );
  }
  return err;
}
