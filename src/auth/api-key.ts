import { createHash, randomBytes } from 'node:crypto';

/** Integration API keys: `pjk_` + 40 base64url characters. Recognized in the Authorization header by the prefix. */
export const API_KEY_PREFIX = 'pjk_';

export function isApiKeyToken(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A new key, its non-secret display prefix (first 12 characters) and its hash (the only thing stored). */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const key = API_KEY_PREFIX + randomBytes(30).toString('base64url');
  return { key, prefix: key.slice(0, 12), hash: hashApiKey(key) };
}
