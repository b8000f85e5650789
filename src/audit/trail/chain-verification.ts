import { DataSource } from 'typeorm';
import { ChainVerdict, ChainVerifier } from 'src/audit/trail/hash-chain';
import { TrailRepository, SqlRunner } from 'src/audit/trail/trail.repository';
import { dataSourceOptions } from 'src/database/data-source-options';

const PAGE = 5000;

/**
 * Recomputes one organization's chain, from its first event up to the head as it was when the check began
 * (events appended meanwhile are left for the next check). Shared by the verify endpoint and `audit:verify`.
 */
export async function verifyOrganizationChain(repository: TrailRepository, sql: SqlRunner, organizationId: string): Promise<ChainVerdict> {
  const head = await repository.head(sql, organizationId);
  const verifier = new ChainVerifier();
  if (head) {
    let after = 0;
    for (;;) {
      const rows = await repository.chainPage(sql, organizationId, after, head.lastSeq, PAGE);
      let ok = true;
      for (const row of rows) if (!(ok = verifier.push(row))) break;
      if (!ok || rows.length < PAGE) break;
      after = rows[rows.length - 1].seq;
    }
  }
  return verifier.finish(head);
}

/** The verdict in the API's snake_case form (the endpoint and the command print the same object). */
export interface ChainVerdictJson {
  valid: boolean;
  events_checked: number;
  first_broken: { id: string | null; occurred_at: string | null; sequence: number; reason: string } | null;
}

export function verdictJson(v: ChainVerdict): ChainVerdictJson {
  const b = v.firstBroken;
  return {
    valid: v.valid,
    events_checked: v.eventsChecked,
    first_broken: b && { id: b.id, occurred_at: b.occurredAt ? b.occurredAt.toISOString() : null, sequence: b.seq, reason: b.reason },
  };
}

/**
 * `audit:verify`: verifies an organization's chain as the database owner (outside the app's role and row-level
 * security). Null when no organization has that slug.
 */
export async function verifyOrganizationBySlug(url: string, slug: string): Promise<(ChainVerdictJson & { organization_id: string }) | null> {
  const ds = new DataSource(dataSourceOptions({ url, asRuntimeRole: false, poolSize: 1, applicationName: 'patient-journey-audit-verify' }));
  await ds.initialize();
  try {
    const repository = new TrailRepository();
    const organizationId = await repository.organizationIdBySlug(ds, slug);
    if (organizationId === null) return null;
    const verdict = await ds.transaction('REPEATABLE READ', (m) => verifyOrganizationChain(repository, m, organizationId));
    return { organization_id: organizationId, ...verdictJson(verdict) };
  } finally {
    await ds.destroy();
  }
}
