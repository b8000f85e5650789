import { randomUUID } from 'node:crypto';
import { ConflictException, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { AuthContext } from 'src/auth/auth-context';
import { Clock } from 'src/common/clock/clock';
import { TenantDb } from 'src/database/tenant/tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { AuditAction } from 'src/audit/trail/audit-action';
import type { RequestAudit } from 'src/audit/recording/request-audit-recorder';
import type { IngestRecordResult, IngestResponse } from 'src/ingestion/dto/ingest.response';
import { IngestionRepository, keyOf, RecordKey, StoredRow } from 'src/ingestion/ingestion.repository';
import { PATIENT_COLUMNS, PlainValue, TABLES, TableSpec, WRITE_ORDER } from 'src/ingestion/record-tables';
import { RecordError } from 'src/ingestion/validation/field-rules';
import { RecordType, validateRecord, ValidRecord } from 'src/ingestion/validation/record-validators';
import { encryptContact } from 'src/records/phi/patient-contact';
import type { PhiDataKey } from 'src/records/phi/phi-data-key';
import { PhiKeyring } from 'src/records/phi/phi-keyring';
import { PhiKeyConflictError } from 'src/records/phi/phi-keyring-core';
import { ScoringService } from 'src/scoring/scoring.service';
import { OrganizationStatisticsWatch } from 'src/scoring/statistics/organization-statistics.watch';
import { ConsentWriter, PatientConsentFlags } from 'src/consent/consent-writer';
import { ErasureTombstones, SourceKey } from 'src/records/tombstones/erasure-tombstones';

interface Pending {
  index: number;
  record: ValidRecord;
}

/**
 * The write side: a batch of typed records from an outside system, each judged on its own, then every valid one
 * upserted by (organization, type, source, external id) in one transaction. A record whose stored version already
 * says the same (compared on plaintext, since each encryption differs) is `unchanged` and not written, so a batch
 * sent twice changes nothing the second time. Touched patients are marked stale and, when the scoring engine is
 * present, recomputed after the commit.
 */
@Injectable()
export class IngestionService {
  private readonly logger = new Logger(IngestionService.name);

  constructor(
    private readonly tenantDb: TenantDb,
    private readonly repository: IngestionRepository,
    private readonly keyring: PhiKeyring,
    private readonly consent: ConsentWriter,
    private readonly tombstones: ErasureTombstones,
    @Inject(Clock) private readonly clock: Clock,
    @Optional() private readonly scoring?: ScoringService,
    @Optional() private readonly statistics?: OrganizationStatisticsWatch,
  ) {}

  async ingest(auth: AuthContext, records: unknown[], audit?: RequestAudit): Promise<IngestResponse> {
    const organizationId = auth.organizationId;
    const { results, touched } = await this.tenantDb.transaction(organizationId, async (db) => {
      const written = await this.writeRecords(db, records, `${auth.actor.type}:${auth.actor.id}`);
      // The audit event commits (or rolls back) with the change it records; last, as it locks the audit chain.
      await audit?.record(db, { action: AuditAction.Update, patientIds: written.touched });
      return written;
    });
    await this.rescore(organizationId, touched);
    const count = (s: IngestRecordResult['status']): number => results.filter((r) => r.status === s).length;
    return {
      results,
      summary: {
        received: records.length,
        created: count('created'),
        updated: count('updated'),
        unchanged: count('unchanged'),
        rejected: count('rejected'),
      },
    };
  }

  /**
   * Validates and writes a batch of records in the caller's transaction (`db`): one result per record, and the ids of
   * the patients whose records changed (marked stale; rescore them after the commit with `rescore`). `actor` is who
   * recorded them (`<type>:<id>`, kept on consent decisions; the FHIR import's by default). The FHIR import (src/fhir-import/) writes through here
   * too, so that both ways in share validation and idempotency.
   */
  async writeRecords(
    db: TenantSql,
    records: unknown[],
    actor = 'system:fhir-import',
  ): Promise<{ results: IngestRecordResult[]; touched: string[] }> {
    const nowMs = this.clock.now().getTime();
    const results: IngestRecordResult[] = new Array(records.length);
    const valid: Pending[] = [];
    records.forEach((raw, index) => {
      const v = validateRecord(raw, nowMs);
      if (v.ok) valid.push({ index, record: v.record });
      else
        results[index] = {
          index,
          record_type: v.recordType,
          source: v.source,
          external_id: v.externalId,
          status: 'rejected',
          errors: v.errors,
        };
    });
    const reject = (p: Pending, errors: RecordError[]): void => {
      results[p.index] = {
        index: p.index,
        record_type: p.record.type,
        source: p.record.source,
        external_id: p.record.externalId,
        status: 'rejected',
        errors,
      };
    };

    // The same record twice in one batch is ambiguous: every occurrence is rejected.
    const seen = new Map<string, number>();
    for (const p of valid)
      seen.set(
        `${p.record.type}\u0000${keyOf(p.record.source, p.record.externalId)}`,
        (seen.get(`${p.record.type}\u0000${keyOf(p.record.source, p.record.externalId)}`) ?? 0) + 1,
      );
    const unique = valid.filter((p) => {
      if ((seen.get(`${p.record.type}\u0000${keyOf(p.record.source, p.record.externalId)}`) ?? 0) === 1) return true;
      reject(p, [
        { field: 'external_id', message: `appears more than once in this batch for record_type ${p.record.type} and this source` },
      ]);
      return false;
    });
    const touched = await this.write(db, await this.notErased(db, unique, results), results, reject, nowMs, actor);
    return { results, touched };
  }

  /**
   * The records that neither are nor refer to an erased patient (an erasure tombstone matches their source and
   * external id); the others are answered `rejected` with the reason `erased`, so that the person is not recreated.
   */
  private async notErased(db: TenantSql, batch: Pending[], results: IngestRecordResult[]): Promise<Pending[]> {
    const keys: SourceKey[] = [];
    for (const p of batch) {
      if (p.record.type === RecordType.Patient) keys.push({ source: p.record.source, externalId: p.record.externalId });
      for (const r of TABLES[p.record.type].patientRefs(p.record.data)) keys.push({ source: p.record.source, externalId: r.externalId });
    }
    const erased = await this.tombstones.erased(db, keys);
    if (erased.size === 0) return batch;
    return batch.filter((p) => {
      const fields: string[] = [];
      if (p.record.type === RecordType.Patient && erased.has(keyOf(p.record.source, p.record.externalId))) fields.push('external_id');
      for (const r of TABLES[p.record.type].patientRefs(p.record.data)) if (erased.has(keyOf(p.record.source, r.externalId))) fields.push(r.field);
      if (fields.length === 0) return true;
      results[p.index] = {
        index: p.index,
        record_type: p.record.type,
        source: p.record.source,
        external_id: p.record.externalId,
        status: 'rejected',
        reason: 'erased',
        errors: fields.map((field) => ({
          field,
          message: 'names a patient erased at the organization\'s request: the record is not stored again (docs/privacy.md, "Erasure")',
        })),
      };
      return false;
    });
  }

  /**
   * Recomputes the patients after their records' commit (the incremental path); a failure leaves them stale (the
   * scheduled recompute picks them up). Returns how many were rescored: 0 when it failed (or scoring is off). Every
   * write's aftermath (the API's batches, FHIR bundles and imports) comes here: the statistics watch counts the
   * patients, without being waited for (OrganizationStatisticsWatch: a clinic joining through the API).
   */
  async rescore(organizationId: string, patientIds: string[]): Promise<number> {
    if (patientIds.length > 0) void this.statistics?.patientsWritten(organizationId, patientIds.length);
    if (patientIds.length === 0 || !this.scoring) return 0;
    try {
      await this.scoring.recomputePatients(organizationId, patientIds);
      return patientIds.length;
    } catch (err) {
      // The batch is committed and its patients stay stale: the scheduled recompute picks them up.
      this.logger.warn(
        `Recompute after ingestion failed for ${patientIds.length} patient(s): ${err instanceof Error ? err.message : String(err)}`,
      );
      return 0;
    }
  }

  /** Writes the batch; returns the ids of the patients whose records changed. */
  private async write(
    db: TenantSql,
    batch: Pending[],
    results: IngestRecordResult[],
    reject: (p: Pending, errors: RecordError[]) => void,
    nowMs: number,
    actor: string,
  ): Promise<string[]> {
    // Patient references: to a patient of this batch or one already stored, within the same source.
    const batchPatients = new Set(
      batch.filter((p) => p.record.type === RecordType.Patient).map((p) => keyOf(p.record.source, p.record.externalId)),
    );
    const refs: RecordKey[] = [];
    for (const p of batch)
      for (const r of TABLES[p.record.type].patientRefs(p.record.data)) refs.push({ source: p.record.source, externalId: r.externalId });
    const patientIds = await this.repository.patientIds(db, refs);
    const accepted = batch.filter((p) => {
      const missing = TABLES[p.record.type]
        .patientRefs(p.record.data)
        .filter((r) => !batchPatients.has(keyOf(p.record.source, r.externalId)) && !patientIds.has(keyOf(p.record.source, r.externalId)));
      if (missing.length === 0) return true;
      reject(
        p,
        missing.map((r) => ({
          field: r.field,
          message: `must be the external_id of a patient of source "${p.record.source}" in this organization or this batch (none found)`,
        })),
      );
      return false;
    });

    const touched = new Set<string>();
    const consentFlags: (PatientConsentFlags & { pending: Pending })[] = [];
    const consentPatients = new Set<string>();
    const referredBy: { pending: Pending; id: string; current: string | null }[] = [];
    for (const type of WRITE_ORDER) {
      const spec = TABLES[type];
      const ofType = accepted.filter((p) => p.record.type === type);
      if (ofType.length === 0) continue;
      const existing = await this.repository.existing(
        db,
        spec,
        ofType.map((p) => ({ source: p.record.source, externalId: p.record.externalId })),
      );
      const toWrite: Record<string, unknown>[] = [];
      const outcome = new Map<Pending, 'created' | 'updated' | 'unchanged'>();
      const refused = new Set<Pending>();
      const encrypted = spec.columns.some((c) => c.enc);
      const prepared = ofType.map((p) => {
        const key = keyOf(p.record.source, p.record.externalId);
        const row = spec.row(p.record.data, (externalId) => patientIds.get(keyOf(p.record.source, externalId)) ?? '', { actor });
        const stored = existing.get(key);
        // Encrypted values are bound to their row: a new row's id is chosen here, before its values are encrypted.
        return { p, key, row, stored, id: stored?.id ?? (encrypted ? randomUUID() : undefined) };
      });
      const keys = encrypted ? await this.keysOf(db, type, prepared) : null;
      for (const { p, row, stored, id } of prepared) {
        const ownerOf = (r: Record<string, unknown>, rowId: string): string => (type === RecordType.Patient ? rowId : (r.patient_id as string));
        const dataKey = keys ? keys.get(ownerOf(row, id as string)) : null;
        const storedKey = keys && stored ? keys.get(ownerOf(stored, stored.id)) : null;
        if (stored && this.same(spec, row, stored, storedKey)) {
          outcome.set(p, 'unchanged');
          continue;
        }
        if (stored && spec.immutable) {
          reject(p, [
            { field: 'external_id', message: `a ${type} record is never changed once stored: send a new decision with a new external_id` },
          ]);
          refused.add(p);
          continue;
        }
        if (type === RecordType.Consent && typeof row.patient_id === 'string') consentPatients.add(row.patient_id);
        outcome.set(p, stored ? 'updated' : 'created');
        toWrite.push({
          ...(id && encrypted ? { id } : {}),
          source: p.record.source,
          external_id: p.record.externalId,
          ...this.stored(spec, row, stored, nowMs, dataKey, id ?? ''),
        });
        for (const c of PATIENT_COLUMNS) {
          if (typeof row[c] === 'string') touched.add(row[c]);
          if (stored && typeof stored[c] === 'string') touched.add(stored[c]);
        }
      }
      const ids = await this.repository.upsert(db, spec, toWrite, encrypted);
      if (encrypted && ids.size !== toWrite.length) {
        // A concurrent request created one of these records first (its values are bound to another id): nothing is kept.
        throw new ConflictException('A concurrent request wrote the same records; send the batch again');
      }
      await keys?.save?.();
      for (const p of ofType) {
        if (refused.has(p)) continue;
        const key = keyOf(p.record.source, p.record.externalId);
        const id = ids.get(key) ?? existing.get(key)?.id ?? '';
        if (p.record.type === RecordType.Patient) {
          patientIds.set(key, id);
          if (outcome.get(p) !== 'unchanged') touched.add(id);
          referredBy.push({ pending: p, id, current: (existing.get(key)?.referred_by_id as string | null | undefined) ?? null });
          const d = p.record.data;
          consentFlags.push({
            pending: p,
            patientId: id,
            source: p.record.source,
            created: !existing.has(key),
            marketing: d.marketing_consent,
            reminders: d.appointment_reminders,
          });
        }
        results[p.index] = {
          index: p.index,
          record_type: type,
          source: p.record.source,
          external_id: p.record.externalId,
          status: outcome.get(p) ?? 'unchanged',
          id,
        };
      }
    }

    // Referrers last: they may be patients of this very batch.
    const links: { id: string; referredById: string | null }[] = [];
    for (const r of referredBy) {
      if (r.pending.record.type !== RecordType.Patient) continue;
      const ext = r.pending.record.data.referred_by_external_id;
      const want = ext ? (patientIds.get(keyOf(r.pending.record.source, ext)) ?? null) : null;
      if (want === r.current) continue;
      links.push({ id: r.id, referredById: want });
      touched.add(r.id);
      const result = results[r.pending.index];
      if (result.status === 'unchanged') result.status = 'updated';
    }
    await this.repository.setReferredBy(db, links);

    // Consent: a patient record's flags become decisions; then the effective grants of every patient with new decisions.
    const now = new Date(nowMs);
    const flagged = new Set(await this.consent.decisionsFromPatientFlags(db, consentFlags, now, actor));
    for (const f of consentFlags) {
      if (flagged.has(f.patientId) && results[f.pending.index].status === 'unchanged') results[f.pending.index].status = 'updated';
    }
    for (const id of await this.consent.project(db, [...consentPatients, ...flagged], now)) touched.add(id);

    const ids = [...touched].filter((id) => id !== '');
    await this.repository.markStale(db, ids);
    return ids;
  }

  /**
   * The data keys a table's rows are encrypted with, in one look-up: a new patient gets a fresh key (stored after
   * its row, `save`), a stored patient without one (written before envelope encryption) gets one now.
   */
  private async keysOf(
    db: TenantSql,
    type: RecordType,
    prepared: { row: Record<string, PlainValue>; stored?: StoredRow; id?: string }[],
  ): Promise<{ get(patientId: string): PhiDataKey; save?: () => Promise<void> }> {
    if (type !== RecordType.Patient) {
      const owners = prepared.flatMap((x) => [x.row.patient_id, x.stored?.patient_id]).filter((id): id is string => typeof id === 'string');
      return this.keyring.ensureKeys(db, owners);
    }
    const stored = await this.keyring.ensureKeys(
      db,
      prepared.filter((x) => x.stored).map((x) => (x.stored as StoredRow).id),
    );
    const fresh = await this.keyring.newKeys(
      db,
      prepared.filter((x) => !x.stored).map((x) => x.id as string),
    );
    return {
      get: (patientId: string) => (stored.get(patientId).available ? stored.get(patientId) : fresh.keys.get(patientId)),
      save: async () => {
        try {
          await fresh.save();
        } catch (err) {
          if (err instanceof PhiKeyConflictError) throw new ConflictException('A concurrent request wrote the same patients; send the batch again');
          throw err;
        }
      },
    };
  }

  /** Whether a stored row already holds these values (encrypted columns compared on their plaintext). */
  private same(spec: TableSpec, row: Record<string, PlainValue>, stored: StoredRow, key: PhiDataKey | null): boolean {
    return spec.columns.every((c) => {
      const want = row[c.name];
      const have = stored[c.name];
      if (c.blindIndexOf || c.contactOf || c.noCompare) return true;
      if (want === null && c.defaultNow) return true;
      if (c.enc) {
        const plain = want === null ? null : c.enc === 'json' ? JSON.stringify(want) : String(want);
        if (!key) return false;
        try {
          return plain === key.decrypt((have as string | null) ?? null, { table: spec.table, column: c.name, row: stored.id });
        } catch {
          return false; // unreadable (moved, or its key is gone): rewritten with the record's values
        }
      }
      if (c.sql === 'timestamptz') return (want === null && have === null) || (have instanceof Date && have.getTime() === want);
      if (c.sql === 'jsonb') return canonical(want) === canonical(have ?? null);
      return want === have;
    });
  }

  /** The values as stored: ciphertext for PHI, ISO timestamps; `defaultNow` columns keep the stored value or get now. */
  private stored(
    spec: TableSpec,
    row: Record<string, PlainValue>,
    stored: StoredRow | undefined,
    nowMs: number,
    key: PhiDataKey | null,
    id: string,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const place = (column: string): { table: string; column: string; row: string } => ({ table: spec.table, column, row: id });
    for (const c of spec.columns) {
      if (c.blindIndexOf) {
        const source = row[c.blindIndexOf.column];
        out[c.name] = typeof source === 'string' ? this.keyring.blindIndex(c.blindIndexOf.kind, source) : null;
        continue;
      }
      if (c.contactOf) {
        if (!key) throw new Error(`no key for an encrypted column of ${spec.table}`);
        out[c.name] = encryptContact(key, id, plainText(row[c.contactOf.phone]), plainText(row[c.contactOf.email]));
        continue;
      }
      let v = row[c.name];
      if (v === null && c.defaultNow) v = stored && stored[c.name] instanceof Date ? (stored[c.name] as Date).getTime() : nowMs;
      if (c.enc && !key) throw new Error(`no key for an encrypted column of ${spec.table}`);
      if (c.enc === 'json') out[c.name] = (key as PhiDataKey).encryptJson(v, place(c.name));
      else if (c.enc === 'text') out[c.name] = (key as PhiDataKey).encrypt(v === null ? null : String(v), place(c.name));
      else if (c.sql === 'timestamptz') out[c.name] = v === null ? null : new Date(v as number).toISOString();
      else out[c.name] = v;
    }
    return out;
  }
}

const plainText = (v: PlainValue | undefined): string | null => (v === null || v === undefined ? null : String(v));

/** JSON with sorted keys, for comparing jsonb values. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
