import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { stdSerializers } from 'pino';
import type { Settings } from 'src/config/settings';

/** Query parameters whose values are never PHI and may be logged as they are. Every other value is masked. */
const SAFE_QUERY_KEYS = new Set([
  'limit', 'offset', 'status', 'sort', 'order', 'granularity', 'from', 'to', 'type', 'priority', 'history_limit', 'touchpoint_limit', 'action',
]);

/** Body and object fields that are PHI or secrets, redacted wherever they appear in a log object. */
export const REDACTED_FIELDS = [
  'name', 'email', 'phone', 'date_of_birth', 'dateOfBirth', 'address', 'street', 'city', 'zip', 'conditions', 'allergies',
  'medications', 'medical_info', 'notes', 'comment', 'patient_name', 'search', 'password', 'token', 'secret',
];

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The request id: the caller's `x-request-id` when it is a sane token, otherwise a new UUID. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  req.headers['x-request-id'] = id;
  return id;
}

/** A URL with every query value masked except those known to carry no PHI. */
export function safeUrl(url: string | undefined): string {
  if (!url) return '';
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  const parts: string[] = [];
  for (const [k, v] of params) parts.push(`${encodeURIComponent(k)}=${SAFE_QUERY_KEYS.has(k) ? encodeURIComponent(v) : '[REDACTED]'}`);
  return `${url.slice(0, q)}?${parts.join('&')}`;
}

const REDACTED_KEYS = new Set<string>([...REDACTED_FIELDS, 'authorization', 'cookie']);
const CENSOR = '[REDACTED]';
/** Nesting scrubPhi looks into; anything deeper is replaced whole (a log object is never that deep on purpose). */
const MAX_DEPTH = 8;

/**
 * `value` with every property named in REDACTED_FIELDS (or authorization, cookie) replaced by `[REDACTED]`, at any
 * depth, in objects and arrays. Returns `value` itself when there is nothing to remove (no copy on the common
 * path); otherwise copies only the objects on the way to a removed field.
 */
export function scrubPhi(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return CENSOR;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v = scrubPhi(value[i], depth + 1);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return out ?? value;
  }
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  return scrubKeys(value as Record<string, unknown>, depth, NO_KEYS);
}

const NO_KEYS = new Set<string>();

/** `source` with its PHI keys censored and its other values scrubbed, except `skip` (copied only when changed). */
function scrubKeys<T extends Record<string, unknown>>(source: T, depth: number, skip: ReadonlySet<string>): T {
  let out: Record<string, unknown> | null = null;
  for (const key of Object.keys(source)) {
    if (skip.has(key)) continue;
    const v = source[key];
    const scrubbed = REDACTED_KEYS.has(key) ? (v === undefined ? v : CENSOR) : scrubPhi(v, depth + 1);
    if (scrubbed !== v) (out ??= { ...source })[key] = scrubbed;
  }
  return (out as T | null) ?? source;
}

/** Keys whose serializers (below) already keep only safe fields: the raw request, response and error objects. */
const SERIALIZED_KEYS = new Set(['req', 'res', 'err']);

/** A log call's merge object, scrubbed (scrubPhi) except for the keys that go through their own serializer. */
export function scrubLogObject(object: Record<string, unknown>): Record<string, unknown> {
  return scrubKeys(object, 0, SERIALIZED_KEYS);
}

/**
 * The application's pino options. PHI never reaches a log line: every logged object (and a serialized error) is
 * scrubbed of the REDACTED_FIELDS at any depth when a line is written (pino's `redact` did the same for listed
 * paths, at a cost on every child logger, logged or not).
 */
export function loggerOptions(settings: Settings): pino.LoggerOptions {
  const pretty = prettyLogs(settings.logFormat, process.stdout.isTTY === true);
  return {
    level: settings.logLevel,
    serializers: {
      // Only what is needed to follow a request: never headers (authorization, cookies), never the body.
      req: (req: { id?: unknown; method?: string; url?: string }) => ({ id: req.id, method: req.method, url: safeUrl(req.url) }),
      res: (res: ServerResponse | { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: (err: Error) => scrubPhi(stdSerializers.err(err)),
    },
    formatters: { log: scrubLogObject },
    transport: pretty ? { target: 'pino-pretty', options: PRETTY_OPTIONS } : undefined,
  };
}

/** LOG_FORMAT: `auto` writes human-readable lines to a terminal and JSON lines anywhere else (a container, a file, CI). */
export function prettyLogs(format: Settings['logFormat'], stdoutIsTerminal: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && stdoutIsTerminal);
}

/**
 * One line per entry: time, level, `[context]`, message, then the entry's other fields (scrubbed like the JSON ones:
 * the formatters run before the line reaches pino-pretty).
 */
export const PRETTY_OPTIONS = {
  singleLine: true,
  colorize: true,
  translateTime: 'SYS:HH:MM:ss.l',
  ignore: 'pid,hostname,context,req,res,requestId',
  messageFormat: '{if context}[{context}] {end}{if req.method}{req.method} {req.url} {res.statusCode} {end}{msg}',
};

/** The process's root logger (stdout, JSON lines; pretty in a development terminal). */
export function createRootLogger(settings: Settings): pino.Logger {
  return pino(loggerOptions(settings));
}

/** What the request log line needs of a request and its reply (Fastify's). */
export interface LoggedExchange {
  id: string;
  method: string;
  url: string;
  statusCode: number;
  /** Milliseconds from the request's arrival to the end of the response. */
  elapsedMs: number;
}

/**
 * One line per finished request (`request completed`, like pino-http's): request id, method, URL with its PHI-capable
 * query values masked (safeUrl), status and response time; at `error` level for a 5xx. Health probes are not
 * logged. Nothing is built when the level is off.
 */
export function logRequest(logger: pino.Logger, x: LoggedExchange): void {
  if (x.url.startsWith('/health')) return;
  const level = x.statusCode >= 500 ? 'error' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  logger[level](
    { requestId: x.id, req: { id: x.id, method: x.method, url: x.url }, res: { statusCode: x.statusCode }, responseTime: Math.round(x.elapsedMs) },
    'request completed',
  );
}
