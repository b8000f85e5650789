import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuditAction } from 'src/audit/trail/audit-action';
import { Audited } from 'src/audit/recording/audited.decorator';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { OpportunitiesParams, OpportunitiesQuery } from 'src/opportunities/dto/opportunities.dto';
import { OpportunitiesResponse } from 'src/opportunities/dto/opportunities.response';
import { OpportunitiesService } from 'src/opportunities/opportunities.service';

@ApiTags('opportunities')
@Controller('patients')
export class OpportunitiesController {
  constructor(private readonly opportunities: OpportunitiesService) {}

  /** Patients worth reengaging, best first (`estimated_value × success_probability`), with a consent-aware action. */
  @Get(':organizationId/opportunities')
  @Authorized(Permission.OpportunitiesRead)
  @Audited({
    action: AuditAction.List,
    resource: 'patient',
    patientIds: (b: OpportunitiesResponse) => b.opportunities.map((o) => o.patient_id),
  })
  list(@Auth() auth: AuthContext, @Param() _p: OpportunitiesParams, @Query() q: OpportunitiesQuery): Promise<OpportunitiesResponse> {
    return this.opportunities.list(auth, q);
  }
}
