/**
 * The settings of an organization-wide rebuild's transaction (the engagement rollup's, and JobService.runTogether's,
 * which runs a small organization's follow-ups in one transaction): no JIT (compiling the aggregations' expressions
 * costs more than it saves; the floors run without it), and memory to hash an organization's rows rather than sort
 * them on disk. Constant text, never input.
 */
export const REBUILD_SETTINGS = ['jit = off', "work_mem = '128MB'"] as const;

/** `settings` as one simple-protocol message of `SET LOCAL`s (one round trip). */
export function setLocal(settings: readonly string[]): string {
  return settings.map((s) => `SET LOCAL ${s}`).join('; ');
}
