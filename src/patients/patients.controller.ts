import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { EarlyAuditRecord } from 'src/audit/recording/audit-on-success.interceptor';
import { EarlyAudit } from 'src/audit/recording/request-auditor.decorator';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import type { Freshness } from 'src/common/cache/freshness';
import { RequestFreshness } from 'src/common/cache/request-freshness';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { ORGANIZATION_PARAMS_SCHEMA, OrganizationParams, PATIENT_PARAMS_SCHEMA, PatientParams } from 'src/common/http/path-params.dto';
import { ValidatedBySchema } from 'src/common/validation/request-schemas';
import { PATIENT_NOT_FOUND_PROBLEM } from 'src/common/problem/problem-docs';
import { PROFILE_EXAMPLE, PROFILES_EXAMPLE } from 'src/patients/dto/patients.examples';
import { PROFILE_QUERY_SCHEMA, ProfileQueryDto } from 'src/patients/dto/profile-query.dto';
import { ProfileResponse } from 'src/patients/dto/profile.response';
import { PROFILES_QUERY_SCHEMA, ProfilesQueryDto } from 'src/patients/dto/profiles-query.dto';
import { ProfilesResponse } from 'src/patients/dto/profiles.response';
import { PatientListService } from 'src/patients/patient-list.service';
import { PatientProfileService } from 'src/patients/patient-profile.service';

@ApiTags('patients')
@Controller('patients')
export class PatientsController {
  constructor(
    private readonly profiles: PatientListService,
    private readonly profile: PatientProfileService,
  ) {}

  @Get(':organizationId/profiles')
  @Authorized(Permission.PatientsRead, {
    // recordsEarly: the page's event is written while its contacts are decrypted (PatientListService.list).
    audit: { action: AuditAction.List, resource: 'patient', patientIds: (b: ProfilesResponse) => b.patients.map((p) => p.id), recordsEarly: true },
  })
  @Endpoint({
    operationId: 'listPatientProfiles',
    summary: 'List patient profiles',
    description:
      "A page of the organization's patients with status, scores and lifetime value, and the organization's counts. " +
      'Filter by status, search by name prefix, sort by name, lifetime value, last appointment or risk score. ' +
      'For deep pages pass the previous page\'s `next_cursor` as `cursor` (keyset paging); `next_cursor` is null on the last page.',
    response: { description: 'A page of patients.', type: ProfilesResponse, example: PROFILES_EXAMPLE },
  })
  @ValidatedBySchema(ORGANIZATION_PARAMS_SCHEMA, PROFILES_QUERY_SCHEMA)
  listPatientProfiles(
    @Auth() auth: AuthContext,
    @Param() _p: OrganizationParams,
    @Query() query: ProfilesQueryDto,
    @RequestFreshness() freshness: Freshness,
    @EarlyAudit() early: EarlyAuditRecord,
  ): Promise<ProfilesResponse> {
    return this.profiles.list(auth, query, freshness, early);
  }

  @Get(':organizationId/profile/:patientId')
  @Authorized(Permission.PatientsRead, {
    audit: { action: AuditAction.Read, resource: 'patient', patientIds: (b: ProfileResponse) => [b.patient.id] },
  })
  @Endpoint({
    operationId: 'getPatientProfile',
    summary: 'Get a patient profile',
    description:
      'One patient in full: contact details, engagement metrics with the latest appointments, risk assessment with its factors, ' +
      'and communication preferences. `medical_info` is null unless the caller also has `patients:read_medical`.',
    response: { description: 'The patient.', type: ProfileResponse, example: PROFILE_EXAMPLE },
    problems: [PATIENT_NOT_FOUND_PROBLEM],
  })
  @ValidatedBySchema(PATIENT_PARAMS_SCHEMA, PROFILE_QUERY_SCHEMA)
  getPatientProfile(@Auth() auth: AuthContext, @Param() p: PatientParams, @Query() query: ProfileQueryDto): Promise<ProfileResponse> {
    return this.profile.get(auth, p.patientId, query.history_limit);
  }
}
