import { HttpStatus, Injectable } from '@nestjs/common';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';
import { TenantDb } from 'src/database/tenant/tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { issue, outcome, prefixed } from 'src/fhir-import/domain/operation-outcome';
import { rewriteReferences } from 'src/fhir-import/domain/references';
import { FhirImporter, ItemOutcome, Prepared } from 'src/fhir-import/fhir-importer';
import { resolveSource } from 'src/fhir-import/fhir-source';
import { IngestionService } from 'src/ingestion/ingestion.service';

/** A transaction with a bad entry: rolled back, answered 400 with the OperationOutcome. */
class TransactionRejected extends Error {
  constructor(readonly outcome: OperationOutcome) {
    super('transaction rejected');
  }
}

/** Records the audit event of the write, in its transaction (last: it locks the organization's audit chain). */
export type RecordAudit = (db: TenantSql, patientIds: string[]) => Promise<void>;

export interface FhirReply {
  status: number;
  body: Bundle | OperationOutcome;
}

const STATUS_LINE: Record<ItemOutcome['status'], string> = {
  created: '201 Created',
  updated: '200 OK',
  unchanged: '200 OK',
  skipped: '200 OK',
  superseded: '200 OK',
  rejected: '400 Bad Request',
};

/**
 * `POST /fhir/{organizationId}`: a FHIR R4 transaction or batch Bundle. Every entry is validated and mapped first;
 * `urn:uuid:` full URLs are given their resource's `Type/id` and every reference to them rewritten; then patients are
 * written, then the rest, in one database transaction with the audit event. A transaction is all or nothing (one bad
 * entry: 400 and nothing written); a batch writes what it can. The touched patients are rescored after the commit.
 */
@Injectable()
export class FhirBundleService {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly importer: FhirImporter,
    private readonly ingestion: IngestionService,
  ) {}

  async process(organizationId: string, body: unknown, requestedSource: string | undefined, audit?: RecordAudit): Promise<FhirReply> {
    const bundle = this.checkBundle(body);
    const transaction = bundle.type === 'transaction';
    const source = resolveSource(requestedSource, bundle.meta?.source);
    const entries = bundle.entry ?? [];
    const prepared = this.prepareEntries(entries, source);
    const responseType = transaction ? 'transaction-response' : 'batch-response';

    if (transaction) {
      const bad = this.issuesOf(prepared.map((p) => p.early));
      if (bad.length > 0) return { status: 400, body: outcome(bad) };
    }
    let outcomes: ItemOutcome[];
    let touched: string[];
    try {
      ({ outcomes, touched } = await this.tenantDb.transaction(organizationId, async (db) => {
        const items = prepared.map((p) => p.item);
        const patients = await this.importer.writePatients(db, source, items);
        const others = await this.importer.writeOthers(db, source, items);
        const merged = items.map((p, i) =>
          p.mapped.kind === 'patient' ? patients.outcomes[i] : (prepared[i].early ?? others.outcomes[i]),
        );
        if (transaction) {
          const bad = this.issuesOf(merged);
          if (bad.length > 0) throw new TransactionRejected(outcome(bad));
        }
        const ids = [...new Set([...patients.touched, ...others.touched])];
        await audit?.(db, ids);
        return { outcomes: merged, touched: ids };
      }));
    } catch (err) {
      if (err instanceof TransactionRejected) return { status: 400, body: err.outcome };
      throw err;
    }
    await this.ingestion.rescore(organizationId, touched);
    return {
      status: 200,
      body: {
        resourceType: 'Bundle',
        type: responseType,
        entry: outcomes.map((o) => ({
          response: {
            status: STATUS_LINE[o.status],
            ...(o.location && o.status !== 'rejected' ? { location: o.location } : {}),
            ...(o.issues ? { outcome: outcome(o.issues) } : {}),
            ...(o.note ? { outcome: outcome([issue('informational', o.note, undefined, 'information')]) } : {}),
          },
        })),
      },
    };
  }

  private checkBundle(body: unknown): Bundle {
    const fail = (field: string, message: string): never => {
      throw new ProblemException(
        ProblemCode.ValidationFailed,
        HttpStatus.BAD_REQUEST,
        `The body is not a FHIR transaction or batch Bundle: ${message}`,
        [{ field, message }],
      );
    };
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return fail('body', 'expected a JSON object (a FHIR Bundle)');
    const b = body as Partial<Bundle> & { resourceType?: unknown };
    if (b.resourceType !== 'Bundle') return fail('resourceType', 'must be "Bundle"');
    if (b.type !== 'transaction' && b.type !== 'batch') return fail('type', 'must be "transaction" or "batch"');
    if (b.entry !== undefined && !Array.isArray(b.entry)) return fail('entry', 'must be an array of entries');
    return b as Bundle;
  }

  /** Each entry's resource with its urn:uuid references resolved, validated and mapped; `early` set when it can go no further. */
  private prepareEntries(entries: BundleEntry[], source: string): { item: Prepared; early: ItemOutcome | null }[] {
    // First pass: every urn:uuid full URL gets its resource's Type/id (the id, or the PUT url's, or the uuid itself).
    const byFullUrl = new Map<string, string>();
    const ids: (string | null)[] = entries.map((e) => {
      const r = e?.resource as Resource | undefined;
      if (!r || typeof r !== 'object') return null;
      const fromUrl = typeof e.request?.url === 'string' ? /^[A-Za-z]+\/([A-Za-z0-9\-.]{1,64})$/.exec(e.request.url)?.[1] : undefined;
      const fromFullUrl =
        typeof e.fullUrl === 'string' && e.fullUrl.startsWith('urn:uuid:') ? e.fullUrl.slice('urn:uuid:'.length) : undefined;
      const id = (typeof r.id === 'string' ? r.id : undefined) ?? fromUrl ?? fromFullUrl ?? null;
      if (id && fromFullUrl && typeof r.resourceType === 'string') byFullUrl.set(e.fullUrl as string, `${r.resourceType}/${id}`);
      return id;
    });
    // Second pass: references rewritten, ids set, each resource checked and mapped.
    return entries.map((e, i) => {
      const at = `Bundle.entry[${i}]`;
      const r = e?.resource as Resource | undefined;
      if (!r || typeof r !== 'object') {
        const item: Prepared = {
          resourceType: 'unknown',
          id: null,
          mapped: { kind: 'invalid', issues: [issue('required', 'An entry must carry a resource', `${at}.resource`)] },
        };
        return {
          item,
          early: {
            status: 'rejected',
            location: null,
            resourceType: 'unknown',
            issues: item.mapped.kind === 'invalid' ? item.mapped.issues : [],
          },
        };
      }
      const method = e.request?.method;
      if (method !== undefined && method !== 'POST' && method !== 'PUT') {
        const issues = [
          issue('not-supported', `request.method ${String(method)} is not supported: only POST and PUT`, `${at}.request.method`),
        ];
        return {
          item: { resourceType: String(r.resourceType), id: null, mapped: { kind: 'invalid', issues } },
          early: { status: 'rejected', location: null, resourceType: String(r.resourceType), issues },
        };
      }
      const resource = { ...rewriteReferences(r, byFullUrl), ...(ids[i] ? { id: ids[i] } : {}) };
      const item = this.importer.prepare(resource, source);
      if (item.mapped.kind === 'invalid') {
        const issues = prefixed(item.mapped.issues, `${at}.resource`);
        item.mapped = { kind: 'invalid', issues };
        return { item, early: { status: 'rejected', location: null, resourceType: item.resourceType, issues } };
      }
      if (item.mapped.kind === 'skipped')
        return {
          item,
          early: {
            status: 'skipped',
            location: `${item.resourceType}/${item.id}`,
            resourceType: item.resourceType,
            note: item.mapped.reason,
          },
        };
      return { item, early: null };
    });
  }

  /** The error issues of the rejected entries (each naming its entry), for a transaction's 400. */
  private issuesOf(outcomes: (ItemOutcome | null)[]): ReturnType<typeof issue>[] {
    return outcomes.flatMap((o, i) => {
      if (!o || o.status !== 'rejected') return [];
      return (o.issues ?? []).map((x) => ({
        ...x,
        expression: (x.expression ?? []).map((e) =>
          e.startsWith('Bundle.') ? e : `Bundle.entry[${i}].resource${e.includes('.') ? e.slice(e.indexOf('.')) : ''}`,
        ),
      }));
    });
  }
}
