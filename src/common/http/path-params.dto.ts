import { IsUuidParam } from 'src/common/validation/is-uuid-param.decorator';

/** The path of every organization-level route: `.../{organizationId}/...`. */
export class OrganizationParams {
  /** The organization's id (`GET /api/v1/me` lists the caller's). */
  @IsUuidParam()
  organizationId: string;
}

/** The path of the routes about one patient: `.../{organizationId}/.../{patientId}`. */
export class PatientParams extends OrganizationParams {
  /** The patient's id, as the patient list gives it. */
  @IsUuidParam()
  patientId: string;
}
