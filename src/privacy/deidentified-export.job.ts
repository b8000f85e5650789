import { randomUUID } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { Clock } from 'src/common/clock/clock';
import { TenantDb } from 'src/database/tenant/tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { FileStore, StoredFileWriter } from 'src/file-store/file-store.service';
import type { JobContext } from 'src/jobs/job-handler';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { DeidentifiedExportRepository } from 'src/privacy/deidentified-export.repository';
import { DateMode, paymentRow, ReleasedPatient, releasePatients, scoresRow, SourcePatient, visitRow } from 'src/privacy/domain/deidentify';
import { deidentificationReport, DeidentificationReport } from 'src/privacy/domain/export-report';
import { PhiKeyring } from 'src/records/phi/phi-keyring';
import { PhiReader } from 'src/records/phi/phi-reader';

/** How long the export's files are kept (then the file store's expiry deletes them). */
export const EXPORT_FILE_TTL_MS = 24 * 60 * 60 * 1000;
const PAGE = 5000;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export interface DeidentifiedExportPayload {
  purpose: 'analytics' | 'research';
  k: number;
  dates: DateMode;
}

/** What the run's result holds: the manifest (files and counts) and the report. No PHI. */
export interface DeidentifiedExportResult {
  [key: string]: unknown;
  files: { id: string; name: string; rows: number; bytes: number }[];
  rows: { patients: number; visits: number; payments: number; scores: number };
  generalized_rows: number;
  suppressed_rows: number;
  expires_at: string;
  report: DeidentificationReport;
}

/**
 * The `deidentified-export` job (src/jobs/): reads the consenting patients in one snapshot, decides who is released
 * and how (src/privacy/domain/deidentify.ts), and writes four NDJSON files to the encrypted file store (expiring after
 * 24 hours): patients, visits, payments and scores, each keyed by the random study id and written in study-id order
 * (never in the source's order). Idempotent: a retried run writes new files; the result names the last ones.
 */
@Injectable()
export class DeidentifiedExportJob implements OnModuleInit {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly repository: DeidentifiedExportRepository,
    private readonly files: FileStore,
    private readonly keyring: PhiKeyring,
    private readonly clock: Clock,
    private readonly jobs: JobService,
  ) {}

  onModuleInit(): void {
    this.jobs.register({ type: JobType.DeidentifiedExport, run: (ctx) => this.run(ctx) });
  }

  async run(ctx: JobContext): Promise<DeidentifiedExportResult> {
    const payload = ctx.payload as unknown as DeidentifiedExportPayload;
    const at = this.clock.now();
    const expiresAt = new Date(at.getTime() + EXPORT_FILE_TTL_MS);
    return this.tenantDb.read(
      ctx.organizationId,
      async (db) => {
        const population = await this.repository.population(db, payload.purpose);
        const source = await this.sourcePatients(db, payload.purpose);
        await ctx.progress(0.2);
        const decided = releasePatients(source, { k: payload.k, dates: payload.dates, at, studyId: randomUUID });
        // Study-id order: the files say nothing about the source's order.
        const released = [...decided.released.entries()].sort((a, b) => (a[1].studyId < b[1].studyId ? -1 : 1));
        const open = (name: string): Promise<StoredFileWriter> =>
          this.files.create(ctx.organizationId, { runId: ctx.runId, name, contentType: 'application/x-ndjson', expiresAt });
        const patients = await open('patients.ndjson');
        for (const row of [...decided.rows].sort((a, b) => (a.study_id < b.study_id ? -1 : 1)))
          await patients.writeLine(JSON.stringify(row));
        const visits = await open('visits.ndjson');
        const payments = await open('payments.ndjson');
        const scores = await open('scores.ndjson');
        for (let i = 0; i < released.length; i += PAGE) {
          const chunk = released.slice(i, i + PAGE);
          await this.writeChunk(db, new Map(chunk), payload.dates, visits, payments, scores);
          await ctx.progress(0.2 + (0.8 * (i + chunk.length)) / Math.max(released.length, 1));
        }
        const written = await Promise.all([patients, visits, payments, scores].map(async (w) => ({ w, totals: await w.finish() })));
        const rows = {
          patients: written[0].totals.lines,
          visits: written[1].totals.lines,
          payments: written[2].totals.lines,
          scores: written[3].totals.lines,
        };
        const report = deidentificationReport(decided.report, {
          purpose: payload.purpose,
          k: payload.k,
          dates: payload.dates,
          patientsInOrganization: population.patients,
          withoutConsent: population.patients - population.consented,
          rows,
        });
        return {
          files: written.map(({ w, totals }) => ({ id: w.id, name: w.file.name, rows: totals.lines, bytes: totals.bytes })),
          rows,
          generalized_rows: report.suppression.generalized_rows,
          suppressed_rows: report.suppression.suppressed_rows,
          expires_at: expiresAt.toISOString(),
          report,
        };
      },
      { snapshot: true },
    );
  }

  /** The consenting patients; what the export must not carry is read but never decrypted beyond need. */
  private async sourcePatients(db: TenantSql, purpose: string): Promise<SourcePatient[]> {
    const out: SourcePatient[] = [];
    let after = NIL_UUID;
    for (;;) {
      const page = await this.repository.patients(db, purpose, after, PAGE);
      const keys = await this.keyring.keysFor(db, page.map((p) => p.id));
      for (const p of page) {
        const phi = new PhiReader(keys.get(p.id), db.organizationId);
        out.push({
          patientId: p.id,
          externalId: p.external_id,
          name: p.name,
          // Only their presence is counted: left encrypted.
          email: p.email_enc,
          phone: p.phone_enc,
          dateOfBirth: phi.text(p.date_of_birth_enc, { table: 'patients', column: 'date_of_birth_enc', row: p.id }),
          address: phi.json<SourcePatient['address']>(p.address_enc, { table: 'patients', column: 'address_enc', row: p.id }),
          firstVisitAt: p.first_visit_at === null ? null : new Date(p.first_visit_at),
        });
      }
      if (page.length < PAGE) return out;
      after = page[page.length - 1].id;
    }
  }

  private async writeChunk(
    db: TenantSql,
    chunk: Map<string, ReleasedPatient>,
    dates: DateMode,
    visits: StoredFileWriter,
    payments: StoredFileWriter,
    scores: StoredFileWriter,
  ): Promise<void> {
    const ids = [...chunk.keys()];
    const order = (id: string): string => chunk.get(id)?.studyId ?? '';
    const byStudy = <T extends { patient_id: string }>(rows: T[]): T[] =>
      rows.sort((a, b) => (order(a.patient_id) < order(b.patient_id) ? -1 : order(a.patient_id) > order(b.patient_id) ? 1 : 0));
    for (const v of byStudy(await this.repository.visits(db, ids))) {
      await visits.writeLine(
        JSON.stringify(
          visitRow(
            { startsAt: new Date(v.starts_at), status: v.status, valueCents: v.value_cents },
            chunk.get(v.patient_id) as ReleasedPatient,
            dates,
          ),
        ),
      );
    }
    for (const p of byStudy(await this.repository.payments(db, ids))) {
      await payments.writeLine(
        JSON.stringify(
          paymentRow(
            { occurredAt: new Date(p.occurred_at), amountCents: p.amount_cents, kind: p.kind, status: p.status },
            chunk.get(p.patient_id) as ReleasedPatient,
            dates,
          ),
        ),
      );
    }
    for (const s of byStudy(await this.repository.scores(db, ids))) {
      await scores.writeLine(
        JSON.stringify(
          scoresRow(
            {
              status: s.status,
              riskScore: s.risk_score,
              riskLevel: s.risk_level,
              engagementScore: s.engagement_score,
              ltvCents: s.ltv_cents,
              totalSessions: s.total_sessions,
            },
            chunk.get(s.patient_id) as ReleasedPatient,
          ),
        ),
      );
    }
  }
}
