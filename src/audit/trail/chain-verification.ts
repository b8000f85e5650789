import { ChainVerdict, ChainVerifier } from 'src/audit/trail/hash-chain';
import { TrailRepository } from 'src/audit/trail/trail.repository';
import { Database } from 'src/database/database';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';

const PAGE = 5000;

/**
 * Recomputes one organization's chain, from its first event (the first kept one after a retirement) up to the head as it was when the check began
 * (events appended meanwhile are left for the next check). Shared by the verify endpoint and `audit:verify`, which
 * run it in one snapshot (TenantDb.read with `snapshot`).
 */
export async function verifyOrganizationChain(repository: TrailRepository, db: TenantSql): Promise<ChainVerdict> {
  const head = await repository.head(db);
  // After a retirement (docs/audit.md, "Retention"), from the first kept event, whose predecessor's hash is recorded.
  const retired = await repository.retiredThrough(db);
  const verifier = new ChainVerifier(retired);
  if (head) {
    let after = retired?.seq ?? 0;
    for (;;) {
      const rows = await repository.chainPage(db, after, head.lastSeq, PAGE);
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
 * `audit:verify`: verifies the chain of the organization with this slug, in one snapshot, as the runtime role (the
 * trail as the app's own reads see it). Null when no organization has that slug.
 */
export async function verifyOrganizationBySlug(url: string, slug: string): Promise<(ChainVerdictJson & { organization_id: string }) | null> {
  const database = new Database({ url, poolSize: 1, applicationName: 'patient-journey-audit-verify' });
  try {
    const organization = await new OrganizationsRepository().bySlug(database.crossTenant, slug);
    if (organization === null) return null;
    const verdict = await database.tenants.read(organization.id, (db) => verifyOrganizationChain(new TrailRepository(), db), { snapshot: true });
    return { organization_id: organization.id, ...verdictJson(verdict) };
  } finally {
    await database.close();
  }
}
