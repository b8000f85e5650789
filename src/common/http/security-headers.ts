import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/** The API's helmet configuration: Swagger UI needs inline scripts and styles, and images from data: URLs. */
export const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", "'unsafe-inline'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      // Not helmet's default `upgrade-insecure-requests`: over plain HTTP on any address but localhost (a VM, a LAN
      // host) the browser fetched Swagger UI's script and style over https and showed a blank page.
      upgradeInsecureRequests: null,
    },
  },
};

/**
 * The response headers helmet sets with `options`, computed once. They are the same for every response (no CSP
 * nonces), so the app sets this fixed set in an onRequest hook instead of running helmet per request, which is
 * what @fastify/helmet does: it rebuilds helmet's middleware, and its CSP string, on every request (measured at
 * about a twelfth of a cached read's CPU).
 */
export function securityHeaders(options: HelmetOptions = HELMET_OPTIONS): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]): void {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string): void {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (err?: unknown) => {
    failure = err;
  });
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  return headers;
}
