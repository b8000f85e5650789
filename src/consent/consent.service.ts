import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AuthContext } from 'src/auth/auth-context';
import type { RequestAudit } from 'src/audit/recording/request-audit-recorder';
import { Clock } from 'src/common/clock/clock';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { ConsentDecisionRow, ConsentRepository } from 'src/consent/consent.repository';
import { effectiveConsents } from 'src/consent/domain/consent-policy';
import type { ConsentsResponse } from 'src/consent/dto/consents.response';
import type { RecordConsentDto } from 'src/consent/dto/record-consent.dto';
import { IngestionService } from 'src/ingestion/ingestion.service';
import { ConsentSource } from 'src/records/records.enums';
import { PhiKeyring } from 'src/records/phi/phi-keyring';
import { PhiReader } from 'src/records/phi/phi-reader';

const iso = (d: Date | null): string | null => (d === null ? null : new Date(d).toISOString());

/** Which body field an ingestion error of a consent record is about. */
const BODY_FIELD: Record<string, string> = { consent_source: 'source' };

/**
 * A patient's consent: the history and the effective state (GET), and a new decision (POST), which is written as an
 * ingestion `consent` record (the one way a decision is written: same validation, idempotency, audit, and the same
 * aftermath: grants, scores, opportunities).
 */
@Injectable()
export class ConsentService {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly repository: ConsentRepository,
    private readonly ingestion: IngestionService,
    private readonly keyring: PhiKeyring,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async list(auth: AuthContext, patientId: string): Promise<ConsentsResponse> {
    const { rows, keys } = await this.tenantDb.read(auth.organizationId, async (db) => {
      if (!(await this.repository.patientKey(db, patientId))) throw notFound();
      return { rows: await this.repository.history(db, [patientId]), keys: await this.keyring.keysFor(db, [patientId]) };
    });
    return this.toResponse(patientId, rows, new PhiReader(keys.get(patientId), auth.organizationId));
  }

  async record(auth: AuthContext, patientId: string, body: RecordConsentDto, audit: RequestAudit): Promise<ConsentsResponse> {
    const key = await this.tenantDb.statements(auth.organizationId, (db) => this.repository.patientKey(db, patientId));
    if (!key) throw notFound();
    const record = {
      record_type: 'consent',
      source: key.source,
      external_id: `consent-api:${randomUUID()}`,
      patient_external_id: key.externalId,
      purpose: body.purpose,
      channel: body.channel ?? null,
      decision: body.decision,
      recorded_at: body.recorded_at ?? null,
      consent_source: body.source ?? ConsentSource.FrontDesk,
      expires_at: body.expires_at ?? null,
      evidence: body.evidence ?? null,
    };
    const outcome = await this.ingestion.ingest(auth, [record], audit);
    const result = outcome.results[0];
    if (result.status === 'rejected') {
      const errors = (result.errors ?? []).map((e) => ({ in: 'body' as const, field: BODY_FIELD[e.field] ?? e.field, message: e.message }));
      throw ProblemException.badRequest(errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
    }
    return this.list(auth, patientId);
  }

  private toResponse(patientId: string, rows: ConsentDecisionRow[], phi: PhiReader): ConsentsResponse {
    const facts = rows.map((r) => ({
      id: r.id,
      purpose: r.purpose,
      channel: r.channel,
      decision: r.decision,
      recordedAt: new Date(r.recorded_at),
      expiresAt: r.expires_at === null ? null : new Date(r.expires_at),
      storedAt: new Date(r.created_at),
    }));
    return {
      patient_id: patientId,
      effective: effectiveConsents(facts, this.clock.now()).map((e) => ({
        purpose: e.purpose,
        channel: e.channel,
        granted: e.granted,
        state: e.state,
        decision_id: e.decisionId,
        expires_at: iso(e.expiresAt),
      })),
      history: rows.map((r) => ({
        id: r.id,
        purpose: r.purpose,
        channel: r.channel,
        decision: r.decision,
        recorded_at: new Date(r.recorded_at).toISOString(),
        source: r.origin,
        recorded_by: r.recorded_by,
        expires_at: iso(r.expires_at),
        evidence: phi.text(r.evidence_enc, { table: 'consent_decisions', column: 'evidence_enc', row: r.id }),
        record_source: r.source,
        external_id: r.external_id,
      })),
    };
  }
}

const notFound = (): ProblemException =>
  ProblemException.notFound(ProblemCode.PatientNotFound, 'No patient with this id in this organization');
