import { Writable } from 'node:stream';
import pino from 'pino';
import { loadSettings } from 'src/config/settings';
import { loggerParams, scrubPhi } from 'src/common/logging/logging';

function captureLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const { pinoHttp } = loggerParams(loadSettings({ LOG_LEVEL: 'info', NODE_ENV: 'test' }));
  const options = { ...(pinoHttp as pino.LoggerOptions), transport: undefined };
  return { logger: pino(options, stream), lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
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
