import { Injectable } from '@nestjs/common';
import { AuthContext, hasPermission } from 'src/auth/auth-context';
import { Permission } from 'src/auth/permissions';
import { Clock } from 'src/common/clock/clock';
import { ReadTenantDb } from 'src/database/replicas/read-tenant-db';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';
import type { ProfileResponse } from 'src/patients/dto/profile.response';
import { PatientsRepository } from 'src/patients/patients.repository';
import { toProfile } from 'src/patients/profile-mappers';
import { PhiKeyring } from 'src/records/phi/phi-keyring';
import { PhiReader } from 'src/records/phi/phi-reader';

/**
 * One patient in full (spec endpoint 3). Not cached: one indexed statement of about a millisecond, and a cached
 * copy would be PHI kept outside the database. `medical_info` is read only for `patients:read_medical`.
 */
@Injectable()
export class PatientProfileService {
  constructor(
    private readonly tenantDb: ReadTenantDb,
    private readonly patients: PatientsRepository,
    private readonly keyring: PhiKeyring,
    private readonly clock: Clock,
  ) {}

  async get(auth: AuthContext, patientId: string, historyLimit = 50): Promise<ProfileResponse> {
    const withMedical = hasPermission(auth, Permission.PatientsReadMedical);
    // The profile's statement prepared on the connection (findProfile); the keys' look-up sent as it is.
    const [row, keys] = await this.tenantDb.statements(
      auth.organizationId,
      (db) =>
        Promise.all([
          this.patients.findProfile(db, patientId, { historyLimit, now: this.clock.now(), withMedical }),
          this.keyring.keysFor(db, [patientId]),
        ]),
      { prepared: true },
    );
    if (!row) throw ProblemException.notFound(ProblemCode.PatientNotFound, 'No patient with this id in this organization');
    return { patient: toProfile(row, new PhiReader(keys.get(row.id), auth.organizationId), withMedical) };
  }
}
