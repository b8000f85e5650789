import { IsUUID } from 'class-validator';

/** Path of GET /patients/{organizationId}/profile/{patientId}. */
export class ProfileParamsDto {
  @IsUUID('all', { message: 'organizationId must be a UUID' })
  organizationId: string;

  @IsUUID('all', { message: 'patientId must be a UUID' })
  patientId: string;
}

/** Path of the organization-level patient routes. */
export class OrganizationParamsDto {
  @IsUUID('all', { message: 'organizationId must be a UUID' })
  organizationId: string;
}
