import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Response bodies that are sent many times unchanged (cached list pages) keep their JSON text: the first send
 * serializes them with the route's own serializer (the compiled response schema, src/common/http/response-schemas.ts,
 * or JSON.stringify) and the later sends reuse the text (`reuseJsonText`, a Fastify preSerialization hook installed
 * by createApp). A list page of 100 patients is about 40 KB of JSON; serializing it again was 7 % of a cached page's CPU.
 */
const JSON_TEXT = Symbol('json-text');

type Reusable = { [JSON_TEXT]?: string | null };

/** Marks `body` as sent unchanged many times (it must not be modified afterwards). Returns it. */
export function reusableJson<T extends object>(body: T): T {
  Object.defineProperty(body, JSON_TEXT, { value: null, writable: true, enumerable: false });
  return body;
}

/** The JSON text of a reusable body (serialized by `serialize` the first time only); null for any other payload. */
export function reusedText(payload: unknown, serialize: (payload: unknown) => string): string | null {
  if (payload === null || typeof payload !== 'object' || !(JSON_TEXT in payload)) return null;
  const body = payload as Reusable;
  return (body[JSON_TEXT] ??= serialize(payload));
}

/** Fastify preSerialization hook: a reusable body is sent as its kept text; any other goes to the route's serializer. */
export function reuseJsonText(_request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void): void {
  const text = reusedText(payload, (p) => reply.serialize(p) as string);
  if (text !== null) reply.serializer(() => text);
  done(null, payload);
}
