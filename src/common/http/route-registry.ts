/**
 * The routes the HTTP server registered (filled from Fastify's onRoute hook), so that a request to a known path
 * with the wrong method is answered 405 with an Allow header instead of 404.
 */
interface KnownRoute {
  method: string;
  pattern: RegExp;
}

const routes: KnownRoute[] = [];

function toRegExp(url: string): RegExp {
  const escaped = url
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}/?$`);
}

export function registerRoute(method: string | string[], url: string): void {
  for (const m of Array.isArray(method) ? method : [method]) {
    if (m === 'HEAD' || m === 'OPTIONS') continue;
    routes.push({ method: m, pattern: toRegExp(url) });
  }
}

export function allowedMethods(path: string): string[] {
  return [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))].sort();
}
