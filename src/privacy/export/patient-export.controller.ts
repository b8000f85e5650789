import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { PatientParams } from 'src/common/http/path-params.dto';
import { PATIENT_NOT_FOUND_PROBLEM } from 'src/common/problem/problem-docs';
import { PatientExportQuery } from 'src/privacy/export/dto/export.dto';
import { FHIR_BUNDLE_EXAMPLE } from 'src/privacy/export/dto/export.examples';
import { FhirBundleResponse } from 'src/privacy/export/dto/export.response';
import { PatientExportService } from 'src/privacy/export/patient-export.service';

@ApiTags('privacy')
@Controller('patients')
export class PatientExportController {
  constructor(private readonly exports: PatientExportService) {}

  @Get(':organizationId/profile/:patientId/export')
  @Authorized(Permission.PrivacyManage, { audit: { action: AuditAction.Export, resource: 'patient_record' } })
  @ApiProduces('application/fhir+json', 'application/json')
  @Endpoint({
    operationId: 'getPatientExport',
    summary: "Export a patient's complete record",
    description:
      "The patient's complete record (right of access): every stored record of every kind, nothing capped. By default a FHIR R4 Bundle of " +
      'type `collection` (`application/fhir+json`), one entry per record, each record kind mapped to the closest R4 resource (the table is in ' +
      "docs/privacy.md); with `format=json` the same content in the project's own snake_case shape (`application/json`). Every export is " +
      'recorded in the audit trail.',
    response: { description: 'The record.', type: FhirBundleResponse, example: FHIR_BUNDLE_EXAMPLE },
    problems: [PATIENT_NOT_FOUND_PROBLEM],
  })
  async getPatientExport(
    @Auth() auth: AuthContext,
    @Param() p: PatientParams,
    @Query() q: PatientExportQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    if (q.format === 'json') {
      reply.header('content-type', 'application/json; charset=utf-8');
      return JSON.stringify(await this.exports.json(auth, p.patientId));
    }
    reply.header('content-type', 'application/fhir+json; charset=utf-8');
    return JSON.stringify(await this.exports.fhir(auth, p.patientId));
  }
}
