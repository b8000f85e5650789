import { Injectable } from '@nestjs/common';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { AuthContext } from 'src/auth/auth-context';
import { Clock } from 'src/common/clock/clock';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { toFhirResources } from 'src/privacy/export/domain/fhir-mapping';
import { toExportRecord, type ExportRecord } from 'src/privacy/export/export-record';
import { EXPORT_TABLE_NAMES, ExportRecordsRepository, type ExportTable } from 'src/privacy/export/export-records.repository';
import { PhiKeyring } from 'src/records/phi/phi-keyring';

/** One patient's complete record in the project's snake_case shape: every stored record of every kind. */
export type PatientRecordJson = { exported_at: string; patient: ExportRecord } & Record<Exclude<ExportTable, 'patients'>, ExportRecord[]>;

/**
 * One patient's record (right of access, HIPAA 45 CFR 164.524; GDPR art. 15 and 20): every stored record of every
 * kind, read in one snapshot, nothing capped (each table read in keyset batches), as a FHIR R4 collection Bundle or
 * in the project's own JSON shape.
 */
@Injectable()
export class PatientExportService {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly records: ExportRecordsRepository,
    private readonly keyring: PhiKeyring,
    private readonly clock: Clock,
  ) {}

  /** The record by kind, with the organization's currency; 404 patient-not-found for a patient the organization lacks. */
  async read(auth: AuthContext, patientId: string): Promise<{ byKind: Map<ExportTable, ExportRecord[]>; currency: string }> {
    return this.tenantDb.read(
      auth.organizationId,
      async (db) => {
        if (!(await this.records.patientExists(db, patientId))) {
          throw ProblemException.notFound(ProblemCode.PatientNotFound, 'No patient with this id in this organization');
        }
        const keys = await this.keyring.keysFor(db, [patientId]);
        const byKind = new Map<ExportTable, ExportRecord[]>();
        for (const kind of EXPORT_TABLE_NAMES) {
          const out: ExportRecord[] = [];
          for await (const rows of this.records.batches(db, kind, { patientIds: [patientId], since: null })) {
            for (const row of rows) out.push(toExportRecord(kind, row, keys, auth.organizationId));
          }
          byKind.set(kind, out);
        }
        return { byKind, currency: await this.records.currency(db) };
      },
      { snapshot: true },
    );
  }

  async json(auth: AuthContext, patientId: string): Promise<PatientRecordJson> {
    const { byKind } = await this.read(auth, patientId);
    const out: Record<string, unknown> = { exported_at: this.clock.now().toISOString(), patient: byKind.get('patients')?.[0] };
    for (const [kind, list] of byKind) if (kind !== 'patients') out[kind] = list;
    return out as PatientRecordJson;
  }

  async fhir(auth: AuthContext, patientId: string): Promise<Bundle> {
    const { byKind, currency } = await this.read(auth, patientId);
    const resources: Resource[] = [];
    for (const [kind, list] of byKind) for (const record of list) resources.push(...toFhirResources(kind, record, { currency }));
    return {
      resourceType: 'Bundle',
      type: 'collection',
      timestamp: this.clock.now().toISOString(),
      entry: resources.map((resource) => ({ resource })),
    };
  }
}
