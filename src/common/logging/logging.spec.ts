import { Writable } from 'node:stream';
import pino from 'pino';
import { loadSettings } from 'src/config/settings';
import { AppLogger } from 'src/common/logging/app-logger';
import { loggerOptions, logRequest, scrubPhi } from 'src/common/logging/logging';

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
    nest.log('Mapped route', 'RoutesResolver');
    nest.error('boom', 'Error: boom\n    at x', 'ProblemFilter');
    nest.error({ err: new Error('dup'), status: 500, patient: { email: 'z@example.com' } }, 'request failed', 'ProblemFilter');
    nest.warn('recompute failed for 3 patient(s)', 'IngestionService');
    nest.debug({ n: 1 }, 'AggregateCache');
    nest.verbose('not at debug level', 'X');
    const out = lines();
    expect(out).toHaveLength(5);
    expect(out[0]).toMatchObject({ level: 30, context: 'RoutesResolver', msg: 'Mapped route' });
    expect(out[1]).toMatchObject({ level: 50, context: 'ProblemFilter', msg: 'boom', stack: 'Error: boom\n    at x' });
    expect(out[2]).toMatchObject({ level: 50, context: 'ProblemFilter', msg: 'request failed', status: 500, err: { message: 'dup' }, patient: { email: '[REDACTED]' } });
    expect(out[3]).toMatchObject({ level: 40, context: 'IngestionService', msg: 'recompute failed for 3 patient(s)' });
    expect(out[4]).toMatchObject({ level: 20, context: 'AggregateCache', n: 1 });
    expect(JSON.stringify(out)).not.toContain('example.com');
  });
});
