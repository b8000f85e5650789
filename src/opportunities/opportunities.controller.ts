import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import type { Freshness } from 'src/common/cache/freshness';
import { RequestFreshness } from 'src/common/cache/request-freshness';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { NOT_READY_PROBLEM } from 'src/common/problem/problem-docs';
import { ORGANIZATION_PARAMS_SCHEMA, OrganizationParams } from 'src/common/http/path-params.dto';
import { ValidatedBySchema } from 'src/common/validation/request-schemas';
import { OPPORTUNITIES_QUERY_SCHEMA, OpportunitiesQuery } from 'src/opportunities/dto/opportunities.dto';
import { OPPORTUNITIES_EXAMPLE } from 'src/opportunities/dto/opportunities.examples';
import { OpportunitiesResponse } from 'src/opportunities/dto/opportunities.response';
import { OpportunitiesService } from 'src/opportunities/opportunities.service';

@ApiTags('opportunities')
@Controller('patients')
export class OpportunitiesController {
  constructor(private readonly opportunities: OpportunitiesService) {}

  @Get(':organizationId/opportunities')
  @Authorized(Permission.OpportunitiesRead, {
    audit: {
      action: AuditAction.List,
      resource: 'patient',
      patientIds: (b: OpportunitiesResponse) => b.opportunities.map((o) => o.patient_id),
    },
  })
  @Endpoint({
    operationId: 'listOpportunities',
    summary: 'List reengagement opportunities',
    description:
      'Patients worth reengaging, best first (by `estimated_value × success_probability`), each with a suggested action that ' +
      "respects the patient's consent, and the totals over every matching opportunity. Answered from the organization's snapshot, " +
      'rebuilt after every organization-wide recompute: one older than SNAPSHOT_MAX_AGE_HOURS is answered as it is, with `Age` and ' +
      '`Cache-Status: ...; detail=snapshot-stale`, while its rebuild runs.',
    response: { description: 'A page of opportunities.', type: OpportunitiesResponse, example: OPPORTUNITIES_EXAMPLE },
    problems: [NOT_READY_PROBLEM],
  })
  @ValidatedBySchema(ORGANIZATION_PARAMS_SCHEMA, OPPORTUNITIES_QUERY_SCHEMA)
  listOpportunities(
    @Auth() auth: AuthContext,
    @Param() _p: OrganizationParams,
    @Query() q: OpportunitiesQuery,
    @RequestFreshness() freshness: Freshness,
  ): Promise<OpportunitiesResponse> {
    return this.opportunities.list(auth, q, freshness);
  }
}
