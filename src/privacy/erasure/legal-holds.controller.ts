import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { RequestAudit } from 'src/audit/recording/request-audit-recorder';
import { RequestAuditor } from 'src/audit/recording/request-auditor.decorator';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { problem, ProblemCode } from 'src/common/problem/problem';
import { LEGAL_HOLD_EXAMPLE, LEGAL_HOLDS_EXAMPLE } from 'src/privacy/erasure/dto/erasure.examples';
import { CreateLegalHoldBody, LegalHoldParams } from 'src/privacy/erasure/dto/legal-holds.dto';
import { LegalHoldResponse, LegalHoldsResponse } from 'src/privacy/erasure/dto/legal-holds.response';
import { LegalHoldsService } from 'src/privacy/erasure/legal-holds.service';

const HOLD_NOT_FOUND = {
  status: 404 as const,
  description: 'No legal hold with this id in this organization.',
  example: problem(ProblemCode.NotFound, 404, 'No legal hold with this id in this organization'),
};

@ApiTags('privacy')
@Controller('organizations')
export class LegalHoldsController {
  constructor(private readonly holds: LegalHoldsService) {}

  @Post(':organizationId/legal-holds')
  @HttpCode(201)
  @Authorized(Permission.PrivacyManage, { audit: { action: AuditAction.Create, resource: 'legal_hold', writesOwnAudit: true } })
  @Endpoint({
    operationId: 'createLegalHold',
    summary: 'Place a legal hold',
    description:
      'Holds some patients (`patient_ids`) or every patient (`all: true`) until released or until `until`: while a hold is in force, ' +
      'erasing a patient it covers answers 409 naming it, and the retention sweep skips them. Audited.',
    response: { status: 201, description: 'The hold.', type: LegalHoldResponse, example: LEGAL_HOLD_EXAMPLE },
  })
  createLegalHold(
    @Auth() auth: AuthContext,
    @Param() _p: OrganizationParams,
    @Body() body: CreateLegalHoldBody,
    @RequestAuditor() audit: RequestAudit,
  ): Promise<LegalHoldResponse> {
    return this.holds.create(auth, body, audit);
  }

  @Get(':organizationId/legal-holds')
  @Authorized(Permission.PrivacyManage, {
    audit: {
      action: AuditAction.List,
      resource: 'legal_hold',
      patientIds: (b: LegalHoldsResponse) => b.holds.flatMap((h) => h.patient_ids),
    },
  })
  @Endpoint({
    operationId: 'listLegalHolds',
    summary: 'List legal holds',
    description: "The organization's legal holds, newest first, released ones included (`in_force` says which still apply).",
    response: { description: 'The holds.', type: LegalHoldsResponse, example: LEGAL_HOLDS_EXAMPLE },
  })
  listLegalHolds(@Auth() auth: AuthContext, @Param() _p: OrganizationParams): Promise<LegalHoldsResponse> {
    return this.holds.list(auth);
  }

  @Delete(':organizationId/legal-holds/:holdId')
  @Authorized(Permission.PrivacyManage, { audit: { action: AuditAction.Update, resource: 'legal_hold', writesOwnAudit: true } })
  @Endpoint({
    operationId: 'deleteLegalHold',
    summary: 'Release a legal hold',
    description: 'Releases the hold (kept, with `released_at`); releasing it again answers the same.',
    response: {
      description: 'The released hold.',
      type: LegalHoldResponse,
      example: {
        ...LEGAL_HOLD_EXAMPLE,
        released_at: '2026-12-01T09:00:00.000Z',
        released_by: LEGAL_HOLD_EXAMPLE.created_by,
        in_force: false,
      },
    },
    problems: [HOLD_NOT_FOUND],
  })
  deleteLegalHold(
    @Auth() auth: AuthContext,
    @Param() p: LegalHoldParams,
    @RequestAuditor() audit: RequestAudit,
  ): Promise<LegalHoldResponse> {
    return this.holds.release(auth, p.holdId, audit);
  }
}
