import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { RequestAudit } from 'src/audit/recording/request-audit-recorder';
import { RequestAuditor } from 'src/audit/recording/request-auditor.decorator';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { PatientParams } from 'src/common/http/path-params.dto';
import { PATIENT_NOT_FOUND_PROBLEM } from 'src/common/problem/problem-docs';
import { ConsentService } from 'src/consent/consent.service';
import { CONSENTS_EXAMPLE } from 'src/consent/dto/consents.examples';
import { ConsentsResponse } from 'src/consent/dto/consents.response';
import { RecordConsentDto } from 'src/consent/dto/record-consent.dto';

@ApiTags('patients')
@Controller('patients')
export class ConsentController {
  constructor(private readonly consent: ConsentService) {}

  @Get(':organizationId/profile/:patientId/consents')
  @Authorized(Permission.PatientsRead, {
    audit: { action: AuditAction.Read, resource: 'consent', patientIds: (b: ConsentsResponse) => [b.patient_id] },
  })
  @Endpoint({
    operationId: 'listPatientConsents',
    summary: "List a patient's consent decisions",
    description:
      "The patient's consent history, newest first (decisions are never changed: a newer one supersedes), and the effective state " +
      'per purpose (`appointment_reminders`, `marketing`, `analytics`, `research`, `data_sharing`), per channel for the two that ' +
      'contact the patient. What is not granted here is not done: opportunities, reminders and de-identified exports follow it.',
    response: { description: 'The history and the effective state.', type: ConsentsResponse, example: CONSENTS_EXAMPLE },
    problems: [PATIENT_NOT_FOUND_PROBLEM],
  })
  listPatientConsents(@Auth() auth: AuthContext, @Param() p: PatientParams): Promise<ConsentsResponse> {
    return this.consent.list(auth, p.patientId);
  }

  @Post(':organizationId/profile/:patientId/consents')
  @HttpCode(201)
  @Authorized(Permission.DataWrite, { audit: { action: AuditAction.Update, resource: 'consent', writesOwnAudit: true } })
  @Endpoint({
    operationId: 'createPatientConsent',
    summary: 'Record a consent decision',
    description:
      'Records a decision (granted, withdrawn or denied) for a purpose, on one channel or all, with optional expiry and evidence ' +
      "(encrypted). It takes effect at once: the patient's communication preferences, opportunities and exports follow it in the " +
      "request's aftermath. Answers 201 with the patient's history and effective state.",
    response: {
      status: 201,
      description: 'The history with the new decision, and the effective state.',
      type: ConsentsResponse,
      example: CONSENTS_EXAMPLE,
    },
    problems: [PATIENT_NOT_FOUND_PROBLEM],
  })
  createPatientConsent(
    @Auth() auth: AuthContext,
    @Param() p: PatientParams,
    @Body() body: RecordConsentDto,
    @RequestAuditor() audit: RequestAudit,
  ): Promise<ConsentsResponse> {
    return this.consent.record(auth, p.patientId, body, audit);
  }
}
