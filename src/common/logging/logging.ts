import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
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

export function loggerParams(settings: Settings): Params {
  const pretty = settings.nodeEnv === 'development' && process.stdout.isTTY;
  return {
    pinoHttp: {
      level: settings.logLevel,
      genReqId: (req: IncomingMessage) => requestIdFor(req),
      customProps: (req: IncomingMessage) => ({ requestId: (req as IncomingMessage & { id?: unknown }).id }),
      serializers: {
        // Only what is needed to follow a request: never headers (authorization, cookies), never the body.
        req: (req: { id?: unknown; method?: string; url?: string; raw?: IncomingMessage }) => ({
          id: req.id,
          method: req.method,
          url: safeUrl(req.url),
        }),
        res: (res: ServerResponse | { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          ...REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`, `body.${f}`, `*.*.${f}`]),
        ],
        censor: '[REDACTED]',
      },
      autoLogging: { ignore: (req: IncomingMessage) => (req.url ?? '').startsWith('/health') },
      transport: pretty ? { target: 'pino-pretty', options: { singleLine: true, colorize: true } } : undefined,
    },
  };
}
