import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { RequestAudit } from 'src/audit/recording/request-audit-recorder';
import { RequestAuditor } from 'src/audit/recording/request-auditor.decorator';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { PatientParams } from 'src/common/http/path-params.dto';
import { problem, ProblemCode } from 'src/common/problem/problem';
import { PATIENT_NOT_FOUND_PROBLEM } from 'src/common/problem/problem-docs';
import { ErasureBody } from 'src/privacy/erasure/dto/erasure.dto';
import { ERASURE_RECEIPT_EXAMPLE } from 'src/privacy/erasure/dto/erasure.examples';
import { ErasureReceiptResponse } from 'src/privacy/erasure/dto/erasure.response';
import { ErasureService } from 'src/privacy/erasure/erasure.service';

@ApiTags('privacy')
@Controller('patients')
export class ErasureController {
  constructor(private readonly erasures: ErasureService) {}

  @Post(':organizationId/profile/:patientId/erasure')
  @HttpCode(200)
  @Authorized(Permission.PrivacyManage, { audit: { action: AuditAction.Delete, resource: 'patient_erasure', writesOwnAudit: true } })
  @Endpoint({
    operationId: 'createPatientErasure',
    summary: 'Erase a patient',
    description:
      "Erases the patient (right to erasure): every row that holds the patient's data, in every table, in one transaction; another " +
      "patient's referral of them stays without their identity; counts, summaries and opportunities drop them at once. A tombstone " +
      '(a keyed hash of their source and external id) makes a later ingestion or FHIR import of the same source record come back ' +
      '`rejected` with the reason `erased`. Answers the receipt; erasing again answers the first receipt. 409 while a legal hold ' +
      'covers the patient (the problem names the holds); 503 with Retry-After while the organization\'s scores are recomputed. Audited (the event carries the patient id, never PHI). docs/privacy.md.',
    response: { description: 'The receipt.', type: ErasureReceiptResponse, example: ERASURE_RECEIPT_EXAMPLE },
    problems: [
      PATIENT_NOT_FOUND_PROBLEM,
      {
        status: 503,
        description: "The organization's scores are being recomputed (the nightly run): retry after `Retry-After` seconds.",
        example: problem(ProblemCode.ServiceUnavailable, 503, "The organization's scores are being recomputed: retry the erasure in a minute"),
      },
      {
        status: 409,
        description: 'A legal hold covers the patient.',
        example: problem(
          ProblemCode.LegalHold,
          409,
          'The patient is under legal hold 5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d: release the hold before erasing',
          {
            hold_ids: ['5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d'],
          },
        ),
      },
    ],
  })
  createPatientErasure(
    @Auth() auth: AuthContext,
    @Param() p: PatientParams,
    @Body() body: ErasureBody,
    @RequestAuditor() audit: RequestAudit,
  ): Promise<ErasureReceiptResponse> {
    return this.erasures.erase(auth, p.patientId, body, audit);
  }
}
