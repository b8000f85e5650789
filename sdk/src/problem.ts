import type { Middleware } from 'openapi-fetch';
import type { components } from './openapi.js';

/** RFC 9457 problem details: the body of every error answer of the API. */
export type Problem = components['schemas']['Problem'];
/** One bad field of a 400 answer (`Problem.errors`). */
export type FieldError = components['schemas']['FieldError'];

/** Whether `value` has the members every problem has. */
export function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.type === 'string' && typeof v.title === 'string' && typeof v.status === 'number' && typeof v.detail === 'string';
}

/** A failed call, thrown by `unwrap` and the iterators: `problem` is the API's answer, typed. */
export class ProblemError extends Error {
  constructor(
    readonly problem: Problem,
    readonly response: Response,
  ) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`);
    this.name = 'ProblemError';
  }

  get status(): number {
    return this.problem.status;
  }
}

/**
 * Every error answer reaches the caller as a Problem, also one that did not come from the API (a proxy's HTML
 * 502, an empty 404): such a body is replaced by a problem that says what came.
 */
export const problemMiddleware: Middleware = {
  async onResponse({ response }) {
    if (response.ok) return undefined;
    const text = await response.clone().text();
    try {
      if (isProblem(JSON.parse(text))) return undefined;
    } catch {
      // not JSON: replaced below
    }
    const problem: Problem = {
      type: 'about:blank',
      title: response.statusText || `HTTP ${response.status}`,
      status: response.status,
      detail: `The server answered ${response.status} without a problem+json body`,
    };
    const headers = new Headers(response.headers);
    headers.set('content-type', 'application/problem+json');
    headers.delete('content-length');
    return new Response(JSON.stringify(problem), { status: response.status, statusText: response.statusText, headers });
  },
};

/** A call's result as openapi-fetch gives it: the data, or the problem. */
export type CallResult<T> = { data: T; error?: never; response: Response } | { data?: never; error: Problem; response: Response };

/** The data of a successful call; throws a ProblemError for a failed one. */
export function unwrap<T>(result: CallResult<T>): T {
  if (result.error !== undefined) throw new ProblemError(result.error, result.response);
  return result.data;
}
