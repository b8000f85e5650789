import { IsUuidParam } from 'src/common/validation/is-uuid-param.decorator';
import { partSchema, uuid } from 'src/common/validation/request-schemas';

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

/** OrganizationParams as the route schema Fastify checks (src/common/validation/request-schemas.ts). */
export const ORGANIZATION_PARAMS_SCHEMA = partSchema(OrganizationParams, { organizationId: uuid }, ['organizationId']);
/** PatientParams as the route schema Fastify checks. */
export const PATIENT_PARAMS_SCHEMA = partSchema(PatientParams, { organizationId: uuid, patientId: uuid }, ['organizationId', 'patientId']);
