import createFetchClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from './openapi.js';
import { problemMiddleware } from './problem.js';

/** A bearer token, or a function that returns the current one (called before each request, so it may refresh). */
export type TokenSource = string | (() => string | Promise<string>);

export interface ClientOptions {
  /** Where the API answers, e.g. `https://api.example.com` (the paths start with `/api/v1`). */
  baseUrl: string;
  /** A user token (JWT) or an integration API key, sent as `Authorization: Bearer <token>`. */
  token?: TokenSource;
  /** Another fetch (tests, server-side rendering); the global one by default. */
  fetch?: (request: Request) => Promise<Response>;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

/**
 * The typed client: `GET`, `POST`, `PUT`, `PATCH`, `DELETE` over the document's paths, with path and query
 * parameters, bodies, answers and problems typed as openapi.json says.
 */
export type PatientJourneyClient = Client<paths>;

function bearer(token: TokenSource): Middleware {
  return {
    async onRequest({ request }) {
      const value = typeof token === 'function' ? await token() : token;
      request.headers.set('authorization', `Bearer ${value}`);
      return request;
    },
  };
}

/** A client of the API at `baseUrl`, authenticated with `token`. */
export function createPatientJourneyClient(options: ClientOptions): PatientJourneyClient {
  const client = createFetchClient<paths>({ baseUrl: options.baseUrl.replace(/\/+$/, ''), fetch: options.fetch, headers: options.headers });
  client.use(problemMiddleware);
  if (options.token !== undefined) client.use(bearer(options.token));
  return client;
}
