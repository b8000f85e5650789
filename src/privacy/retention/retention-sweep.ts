import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditAction } from 'src/audit/trail/audit-action';
import type { AuditEventContent } from 'src/audit/trail/audit-event';
import { TrailWriter } from 'src/audit/trail/trail-writer';
import { TrailRepository } from 'src/audit/trail/trail.repository';
import { Clock } from 'src/common/clock/clock';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { FileStore } from 'src/file-store/file-store.service';
import { ErasureService } from 'src/privacy/erasure/erasure.service';
import { LegalHoldsRepository } from 'src/privacy/erasure/legal-holds.repository';
import { PatientEraser } from 'src/privacy/erasure/patient-eraser';
import { auditCutoff, inactivityCutoff, monthsBetween } from 'src/privacy/retention/domain/retention-policy';
import { archiveLine, RetentionRepository } from 'src/privacy/retention/retention.repository';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const BATCH = 1000;
const ARCHIVE_PAGE = 5000;
/** Patient ids listed in the report at most (the counts are exact). */
export const MAX_LISTED_PATIENTS = 1000;

export interface SweepOptions {
  /** The instant the policy is applied at (default now). */
  asOf?: Date;
  /** Report what would go, change nothing. */
  dryRun?: boolean;
  /** Called with the fraction done (0 to 1) between steps; may throw to stop (a cancelled job). */
  progress?: (fraction: number) => Promise<void>;
  /** The job run, recorded as the audit events' request id. */
  runId?: string;
}

/** What a sweep did or would do: ids and counts, never PHI. */
export interface SweepReport {
  organization_id: string;
  as_of: string;
  dry_run: boolean;
  policy: { inactive_patient_years: number | null; audit_years: number };
  patients: {
    /** Patients with no activity since this instant are past the policy (null: the policy keeps patients). */
    inactive_before: string | null;
    past_policy: number;
    held: number;
    /** Erased (in a dry run: that would be). */
    erased: number;
    /** The patients erased (or that would be), at most MAX_LISTED_PATIENTS. */
    patient_ids: string[];
  };
  audit: {
    /** Events before this instant (whole months) are past the policy. */
    retire_before: string;
    /** Events past the policy (retired, or that would be in a dry run). */
    events: number;
    months: string[];
    retired: number;
    archive_file_id: string | null;
  };
}

/**
 * The retention sweep (docs/privacy.md, "Retention"): erases the patients inactive for longer than the organization's
 * policy (basis `retention`, each in its own transaction with its audit event; patients under a legal hold skipped), then
 * retires the audit months past `audit_years`: archived first to an encrypted file of the file store, then deleted by
 * audit_retire(), which records the last retired event's hash so that verification starts from the first kept one.
 * Run by the `retention-sweep` job (nightly) and `npm run retention:sweep`.
 */
@Injectable()
export class RetentionSweep {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly repository: RetentionRepository,
    private readonly holds: LegalHoldsRepository,
    private readonly eraser: PatientEraser,
    private readonly erasures: ErasureService,
    private readonly trail: TrailRepository,
    private readonly writer: TrailWriter,
    private readonly files: FileStore,
    private readonly clock: Clock,
  ) {}

  async run(organizationId: string, options: SweepOptions = {}): Promise<SweepReport> {
    const now = this.clock.now();
    const asOf = options.asOf ?? now;
    const dryRun = options.dryRun === true;
    const progress = options.progress ?? (() => Promise.resolve());
    const policy = await this.tenantDb.read(organizationId, (db) => this.repository.policy(db));
    const report: SweepReport = {
      organization_id: organizationId,
      as_of: asOf.toISOString(),
      dry_run: dryRun,
      policy: { inactive_patient_years: policy.inactivePatientYears, audit_years: policy.auditYears },
      patients: { inactive_before: null, past_policy: 0, held: 0, erased: 0, patient_ids: [] },
      audit: { retire_before: '', events: 0, months: [], retired: 0, archive_file_id: null },
    };

    // Patients.
    const cutoff = inactivityCutoff(asOf, policy);
    if (cutoff) {
      report.patients.inactive_before = cutoff.toISOString();
      const due: string[] = [];
      let after = NIL_UUID;
      for (;;) {
        const ids = await this.tenantDb.read(organizationId, (db) => this.repository.inactivePatients(db, cutoff, after, BATCH));
        if (ids.length === 0) break;
        after = ids[ids.length - 1];
        report.patients.past_policy += ids.length;
        const holds = await this.tenantDb.read(organizationId, (db) => this.holds.covering(db, ids, now));
        const held = holds.some((h) => h.allPatients) ? new Set(ids) : new Set(holds.flatMap((h) => h.patientIds));
        for (const id of ids) {
          if (held.has(id)) report.patients.held++;
          else due.push(id);
        }
        await progress(0.05);
      }
      for (const [i, id] of due.entries()) {
        if (!dryRun) {
          // A batch transaction: its first statement may wait for the organization's recompute (the nightly one runs beside).
          const erased = await this.tenantDb
            .transaction(
              organizationId,
              async (db) => {
                const r = await this.eraser.erase(db, id, {
                  basis: 'retention',
                  reason: null,
                  actor: 'system:retention-sweep',
                  now,
                  waitForRecompute: true,
                });
                if (!r.repeated)
                  await this.writer.append(this.event(organizationId, 'patient_erasure', [id], { basis: 'retention' }, options.runId), db);
                return !r.repeated;
              },
              { batch: true },
            )
            .catch((err: unknown) => {
              // Held since the listing, or erased meanwhile: skipped, the rest goes on.
              if ((err as { status?: number }).status === 409 || (err as { status?: number }).status === 404) return false;
              throw err;
            });
          if (!erased) continue;
          this.erasures.forget(organizationId, [id]);
        }
        report.patients.erased++;
        if (report.patients.patient_ids.length < MAX_LISTED_PATIENTS) report.patients.patient_ids.push(id);
        if (i % 50 === 49) await progress(0.05 + (0.85 * (i + 1)) / due.length);
      }
    }
    await progress(0.9);

    // Audit: the chain's prefix before the cutoff, never after the present (the database refuses less than six years).
    const retireBefore = auditCutoff(asOf < now ? asOf : now, policy);
    report.audit.retire_before = retireBefore.toISOString();
    const { afterSeq, r } = await this.tenantDb.read(organizationId, async (db) => {
      const afterSeq = (await this.trail.retiredThrough(db))?.seq ?? 0;
      return { afterSeq, r: await this.repository.retirable(db, afterSeq, retireBefore) };
    });
    report.audit.events = r.events;
    report.audit.months = r.first && r.last ? monthsBetween(r.first, r.last) : [];
    if (!dryRun && r.events > 0) {
      const file = await this.files.create(organizationId, {
        name: `audit-archive-${afterSeq + 1}-${r.lastSeq}.ndjson`,
        contentType: 'application/x-ndjson',
        expiresAt: null,
      });
      let after = afterSeq;
      for (;;) {
        const rows = await this.tenantDb.read(organizationId, (db) => this.trail.chainPage(db, after, r.lastSeq, ARCHIVE_PAGE));
        for (const row of rows) await file.writeLine(archiveLine(row));
        if (rows.length < ARCHIVE_PAGE) break;
        after = rows[rows.length - 1].seq;
      }
      const written = await file.finish();
      if (written.lines !== r.events) throw new Error(`audit archive holds ${written.lines} events, ${r.events} expected`);
      report.audit.archive_file_id = file.id;
      report.audit.retired = await this.tenantDb.transaction(organizationId, async (db) => {
        const n = await this.repository.retire(db, r.lastSeq, r.events, retireBefore, file.id);
        await this.writer.append(
          this.event(organizationId, 'audit_events', [], { through_sequence: String(r.lastSeq), events: String(n) }, options.runId),
          db,
        );
        return n;
      });
    }
    await progress(1);
    return report;
  }

  private event(
    organizationId: string,
    resource: string,
    patientIds: string[],
    query: Record<string, string>,
    runId?: string,
  ): AuditEventContent {
    return {
      organizationId,
      id: randomUUID(),
      occurredAt: this.clock.now(),
      actorType: null,
      actorId: null,
      actorRole: 'system',
      action: AuditAction.Delete,
      resource,
      method: 'JOB',
      route: 'retention-sweep',
      patientIds,
      query,
      outcome: 'success',
      statusCode: 200,
      requestId: runId ?? null,
      ip: null,
      userAgent: null,
    };
  }
}
