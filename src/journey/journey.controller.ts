import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { PATIENT_PARAMS_SCHEMA, PatientParams } from 'src/common/http/path-params.dto';
import { ValidatedBySchema } from 'src/common/validation/request-schemas';
import { PATIENT_NOT_FOUND_PROBLEM } from 'src/common/problem/problem-docs';
import { JOURNEY_QUERY_SCHEMA, JourneyQuery } from 'src/journey/dto/journey.dto';
import { JOURNEY_EXAMPLE } from 'src/journey/dto/journey.examples';
import { JourneyResponse } from 'src/journey/dto/journey.response';
import { JourneyService } from 'src/journey/journey.service';

@ApiTags('journey')
@Controller('patients')
export class JourneyController {
  constructor(private readonly journeys: JourneyService) {}

  @Get(':organizationId/journey/:patientId')
  @Authorized(Permission.JourneyRead, {
    audit: { action: AuditAction.Read, resource: 'patient', patientIds: (b: JourneyResponse) => [b.journey.patient_id] },
  })
  @Endpoint({
    operationId: 'getPatientJourney',
    summary: "Get a patient's journey",
    description:
      "A patient's journey: the stage they are in and the stages completed (docs/journey.md), the automation sequence they are in, " +
      'and their touchpoints (appointments and communications), newest first.',
    response: { description: "The patient's journey.", type: JourneyResponse, example: JOURNEY_EXAMPLE },
    problems: [PATIENT_NOT_FOUND_PROBLEM],
  })
  @ValidatedBySchema(PATIENT_PARAMS_SCHEMA, JOURNEY_QUERY_SCHEMA)
  getPatientJourney(@Auth() auth: AuthContext, @Param() p: PatientParams, @Query() q: JourneyQuery): Promise<JourneyResponse> {
    return this.journeys.get(auth, p.patientId, q.touchpoint_limit);
  }
}
