import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuditAction } from 'src/audit/trail/audit-action';
import { Audited } from 'src/audit/recording/audited.decorator';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { JourneyParams, JourneyQuery } from 'src/journey/dto/journey.dto';
import { JourneyResponse } from 'src/journey/dto/journey.response';
import { JourneyService } from 'src/journey/journey.service';

@ApiTags('journey')
@Controller('patients')
export class JourneyController {
  constructor(private readonly journeys: JourneyService) {}

  /** A patient's journey: stages, the automation sequence they are in, and their touchpoints newest first. */
  @Get(':organizationId/journey/:patientId')
  @Authorized(Permission.JourneyRead)
  @Audited({ action: AuditAction.Read, resource: 'patient', patientIds: (b: JourneyResponse) => [b.journey.patient_id] })
  getJourney(@Auth() auth: AuthContext, @Param() p: JourneyParams, @Query() q: JourneyQuery): Promise<JourneyResponse> {
    return this.journeys.get(auth, p.patientId, q.touchpoint_limit);
  }
}
