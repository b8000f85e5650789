import type { LoggerService } from '@nestjs/common';
import type pino from 'pino';

type Level = 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal';

/** Nest's start-up chatter (a line per module, controller and route): debug, so that `info` shows what happened. */
const NEST_START_UP = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/**
 * Nest's logger (framework messages and every `new Logger(context)` of the app) over the root pino logger, without
 * a per-request context store: nestjs-pino kept one in an AsyncLocalStorage, whose promise hooks then ran on every
 * promise of every request, and mounted pino-http as an Express-style middleware (Fastify's middie). Profiled on
 * the journey endpoint at 16 clients, that stack (pino-http, nestjs-pino, middie, async hooks) was about a quarter
 * of the app's JavaScript time per request. The request line is written by an onResponse hook
 * (`logRequest`), and a line written while serving a request names the request id itself where it matters (the
 * problem filter's).
 *
 * Accepted call shapes, as Nest's Logger passes them (the context last): `(message, context)`, `(message, stack,
 * context)` for errors, and pino's `(object, message, context)`. Objects go through the PHI scrub (loggerOptions).
 */
export class AppLogger implements LoggerService {
  constructor(private readonly root: pino.Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(wanted: Level, message: unknown, params: unknown[]): void {
    const rest = [...params];
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const level = wanted === 'info' && context !== undefined && NEST_START_UP.has(context) ? 'debug' : wanted;
    if (!this.root.isLevelEnabled(level)) return;
    const text = typeof rest[0] === 'string' ? (rest.shift() as string) : undefined;
    if (message instanceof Error) {
      this.root[level]({ context, err: message }, text ?? message.message);
    } else if (message !== null && typeof message === 'object') {
      this.root[level]({ context, ...(message as Record<string, unknown>) }, text);
    } else if (level === 'error' && text !== undefined) {
      // Nest's (message, stack, context): the second string is the stack.
      this.root[level]({ context, stack: text }, String(message));
    } else {
      this.root[level]({ context }, String(message));
    }
  }
}
