import type { TenantSql } from 'src/database/tenant/tenant-sql';

/** A statement as a repository sent it. */
export interface SentStatement {
  text: string;
  params: readonly unknown[];
}

/** `sql`, recording in `seen` the statements run through it (to read their plans with planOf). */
export const recording = (sql: TenantSql, seen: SentStatement[]): TenantSql => ({
  organizationId: sql.organizationId,
  query: <T>(text: string, params?: readonly unknown[], options?: { prepare?: string }) => {
    seen.push({ text, params: params ?? [] });
    return sql.query<T>(text, params, options);
  },
});

/** The plan PostgreSQL makes for `statement` on `sql`'s connection, with its parameters (EXPLAIN's JSON). */
export const planOf = async (sql: TenantSql, { text, params }: SentStatement): Promise<Record<string, unknown>> => {
  const [row] = await sql.query<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }>(`EXPLAIN (FORMAT JSON) ${text}`, params);
  return row['QUERY PLAN'][0].Plan;
};

/** The index names of a plan's scans, depth first. */
export const indexesOf = (plan: Record<string, unknown>): string[] => [
  ...(typeof plan['Index Name'] === 'string' ? [plan['Index Name']] : []),
  ...((plan.Plans as Record<string, unknown>[] | undefined) ?? []).flatMap(indexesOf),
];

/** The node types of a plan, depth first. */
export const nodesOf = (plan: Record<string, unknown>): string[] => [
  String(plan['Node Type']),
  ...((plan.Plans as Record<string, unknown>[] | undefined) ?? []).flatMap(nodesOf),
];
