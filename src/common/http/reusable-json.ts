/**
 * Response bodies that are sent many times unchanged (cached list pages) keep their JSON text: the reply serializer
 * (`serializeReply`, installed on Fastify by createApp) writes it once, on the first send, and reuses it after.
 * A list page of 100 patients is about 40 KB of JSON; serializing it again was 7 % of a cached page's CPU.
 */
const JSON_TEXT = Symbol('json-text');

type Reusable = { [JSON_TEXT]?: string | null };

/** Marks `body` as sent unchanged many times (it must not be modified afterwards). Returns it. */
export function reusableJson<T extends object>(body: T): T {
  Object.defineProperty(body, JSON_TEXT, { value: null, writable: true, enumerable: false });
  return body;
}

/** Fastify's reply serializer: JSON.stringify, except for a reusable body (reusableJson), serialized once. */
export function serializeReply(payload: unknown): string {
  if (payload !== null && typeof payload === 'object' && JSON_TEXT in payload) {
    const body = payload as Reusable;
    return (body[JSON_TEXT] ??= JSON.stringify(payload));
  }
  return JSON.stringify(payload);
}
