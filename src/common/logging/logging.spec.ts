import { Writable } from 'node:stream';
import pino from 'pino';
import { loadSettings } from 'src/config/settings';
import { AppLogger } from 'src/common/logging/app-logger';
import { loggerOptions, logRequest, prettyLogs, PRETTY_OPTIONS, safeUrl, scrubPhi } from 'src/common/logging/logging';
import pinoPretty from 'pino-pretty';

function captureLogger(level = 'info'): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const options = { ...loggerOptions(loadSettings({ LOG_LEVEL: level, NODE_ENV: 'test' })), transport: undefined };
  return { logger: pino(options, stream), lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('PHI in logs', () => {
  it('scrubs PHI fields at any depth, in objects and arrays, and leaves other values as they are', () => {
    const { logger, lines } = captureLogger();
    logger.info({ patient: { name: 'Zebulon Q', email: 'z@example.com', visits: 3 }, batch: [{ phone: '+15550100', id: 'p1' }], deep: { a: { b: { c: { notes: 'x' } } } }, count: 2 }, 'ingested');
    const [line] = lines();
    expect(line).toMatchObject({
      msg: 'ingested',
      patient: { name: '[REDACTED]', email: '[REDACTED]', visits: 3 },
      batch: [{ phone: '[REDACTED]', id: 'p1' }],
      deep: { a: { b: { c: { notes: '[REDACTED]' } } } },
      count: 2,
    });
    expect(JSON.stringify(line)).not.toMatch(/Zebulon|example\.com|5550100/);
  });

  it('scrubs serialized errors (a driver error carrying a value) and child-logger bindings are kept', () => {
    const { logger, lines } = captureLogger();
    const err = Object.assign(new Error('duplicate key'), { code: '23505', email: 'z@example.com' });
    logger.child({ requestId: 'r-1' }).error({ err }, 'failed');
    const [line] = lines();
    expect(line).toMatchObject({ requestId: 'r-1', msg: 'failed', err: { message: 'duplicate key', code: '23505', email: '[REDACTED]' } });
  });

  it('returns the very same object when there is nothing to remove, and never mutates the logged object', () => {
    const clean = { a: 1, b: [{ c: 'x' }], d: new Date(0) };
    expect(scrubPhi(clean)).toBe(clean);
    const dirty = { a: { name: 'Z' }, b: 1 };
    const out = scrubPhi(dirty) as typeof dirty;
    expect(out).toEqual({ a: { name: '[REDACTED]' }, b: 1 });
    expect(dirty.a.name).toBe('Z');
    expect(out.b).toBe(1);
  });

  it('replaces whatever is nested deeper than it looks (a cycle cannot make it loop)', () => {
    const cyclic: Record<string, unknown> = { id: 1 };
    cyclic.self = cyclic;
    const out = JSON.stringify(scrubPhi(cyclic));
    expect(out).toContain('[REDACTED]');
  });
});

describe('request lines and Nest messages', () => {
  it('writes one request line with the masked URL, status and time; 5xx at error level; health probes and a silent level write nothing', () => {
    const { logger, lines } = captureLogger();
    logRequest(logger, { id: 'r-1', method: 'GET', url: '/api/v1/patients/o/profiles?search=zeb&limit=5', statusCode: 200, elapsedMs: 3.6 });
    logRequest(logger, { id: 'r-2', method: 'POST', url: '/api/v1/x', statusCode: 503, elapsedMs: 1 });
    logRequest(logger, { id: 'r-3', method: 'GET', url: '/health/ready', statusCode: 200, elapsedMs: 1 });
    const out = lines();
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      requestId: 'r-1',
      req: { id: 'r-1', method: 'GET', url: '/api/v1/patients/o/profiles?search=[REDACTED]&limit=5' },
      res: { statusCode: 200 },
      responseTime: 4,
    });
    expect(out[1]).toMatchObject({ level: 50, requestId: 'r-2', res: { statusCode: 503 } });
    const silent = captureLogger('silent');
    logRequest(silent.logger, { id: 'r-4', method: 'GET', url: '/api/v1/x', statusCode: 500, elapsedMs: 1 });
    expect(silent.lines()).toEqual([]);
  });

  it('takes Nest call shapes: (message, context), (message, stack, context) and pino-style (object, message, context), scrubbed', () => {
    const { logger, lines } = captureLogger('debug');
    const nest = new AppLogger(logger);
    nest.log('Mapped route', 'Bootstrap');
    nest.error('boom', 'Error: boom\n    at x', 'ProblemFilter');
    nest.error({ err: new Error('dup'), status: 500, patient: { email: 'z@example.com' } }, 'request failed', 'ProblemFilter');
    nest.warn('recompute failed for 3 patient(s)', 'IngestionService');
    nest.debug({ n: 1 }, 'AggregateCache');
    nest.verbose('not at debug level', 'X');
    const out = lines();
    expect(out).toHaveLength(5);
    expect(out[0]).toMatchObject({ level: 30, context: 'Bootstrap', msg: 'Mapped route' });
    expect(out[1]).toMatchObject({ level: 50, context: 'ProblemFilter', msg: 'boom', stack: 'Error: boom\n    at x' });
    expect(out[2]).toMatchObject({ level: 50, context: 'ProblemFilter', msg: 'request failed', status: 500, err: { message: 'dup' }, patient: { email: '[REDACTED]' } });
    expect(out[3]).toMatchObject({ level: 40, context: 'IngestionService', msg: 'recompute failed for 3 patient(s)' });
    expect(out[4]).toMatchObject({ level: 20, context: 'AggregateCache', n: 1 });
    expect(JSON.stringify(out)).not.toContain('example.com');
  });
});

describe('log format', () => {
  it('is human-readable on a terminal and JSON lines elsewhere, unless LOG_FORMAT says', () => {
    expect(prettyLogs('auto', true)).toBe(true);
    expect(prettyLogs('auto', false)).toBe(false);
    expect(prettyLogs('json', true)).toBe(false);
    expect(prettyLogs('pretty', false)).toBe(true);
    expect(loadSettings({}).logFormat).toBe('auto');
    expect(() => loadSettings({ LOG_FORMAT: 'xml' })).toThrow('Invalid setting LOG_FORMAT: expected one of auto, json, pretty, got "xml"');
  });

  it('writes one readable line per entry on a terminal, PHI scrubbed as in JSON', async () => {
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const pretty = pinoPretty({ ...PRETTY_OPTIONS, colorize: false, destination: sink, sync: true });
    const logger = pino({ ...loggerOptions(loadSettings({ NODE_ENV: 'test' })), transport: undefined }, pretty);
    logRequest(logger, { id: 'r-1', method: 'GET', url: safeUrl('/api/v1/p?search=Zebulon&limit=5'), statusCode: 200, elapsedMs: 3.2 });
    new AppLogger(logger).warn({ patient: { name: 'Zebulon Q', visits: 2 } }, 'odd record', 'Ingestion');
    await new Promise((r) => setImmediate(r));
    const lines = chunks.join('').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: GET \/api\/v1\/p\?search=\[REDACTED\]&limit=5 200 request completed \{"responseTime":3\}$/);
    expect(lines[1]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: \[Ingestion\] odd record \{"patient":\{"name":"\[REDACTED\]","visits":2\}\}$/);
    expect(chunks.join('')).not.toContain('Zebulon');
  });

  it("sends Nest's start-up chatter to debug, and keeps other info lines", () => {
    const { logger, lines } = captureLogger('info');
    const app = new AppLogger(logger);
    app.log('AppModule dependencies initialized', 'InstanceLoader');
    app.log('Mapped {/api/v1/me, GET} route', 'RouterExplorer');
    app.log('Nightly recompute scheduled', 'ScoringScheduler');
    expect(lines().map((l) => l.msg)).toEqual(['Nightly recompute scheduled']);
  });
});
