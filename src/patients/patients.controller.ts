import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuditAction } from 'src/audit/trail/audit-action';
import { Audited } from 'src/audit/recording/audited.decorator';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { ProfileParamsDto } from 'src/patients/dto/profile-params.dto';
import { ProfileQueryDto } from 'src/patients/dto/profile-query.dto';
import type { ProfileResponse } from 'src/patients/dto/profile.response';
import { ProfilesQueryDto } from 'src/patients/dto/profiles-query.dto';
import type { ProfilesResponse } from 'src/patients/dto/profiles.response';
import { PatientProfileService } from 'src/patients/patient-profile.service';
import { PatientListService } from 'src/patients/patient-list.service';

@ApiTags('patients')
@Controller('patients')
export class PatientsController {
  constructor(
    private readonly profiles: PatientListService,
    private readonly profile: PatientProfileService,
  ) {}

  /** A page of the organization's patients with status, scores and lifetime value, and the organization's counts. */
  @Get(':organizationId/profiles')
  @Authorized(Permission.PatientsRead)
  @Audited({ action: AuditAction.List, resource: 'patient', patientIds: (b: ProfilesResponse) => b.patients.map((p) => p.id) })
  list(@Auth() auth: AuthContext, @Query() query: ProfilesQueryDto): Promise<ProfilesResponse> {
    return this.profiles.list(auth, query);
  }

  /** One patient in full; `medical_info` only with `patients:read_medical`. */
  @Get(':organizationId/profile/:patientId')
  @Authorized(Permission.PatientsRead)
  @Audited({ action: AuditAction.Read, resource: 'patient', patientIds: (b: ProfileResponse) => [b.patient.id] })
  get(@Auth() auth: AuthContext, @Param() params: ProfileParamsDto, @Query() query: ProfileQueryDto): Promise<ProfileResponse> {
    return this.profile.get(auth, params.patientId, query.history_limit);
  }
}
