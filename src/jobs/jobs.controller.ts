import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { JobsQuery } from 'src/jobs/dto/jobs.query';
import { JobRunsResponse } from 'src/jobs/dto/jobs.response';
import { JobService } from 'src/jobs/job.service';
import { toJobRunResponse } from 'src/jobs/job-run.mapper';
import { OrganizationPathParams } from 'src/organizations/dto/member.dto';

@ApiTags('jobs')
@Controller('organizations/:organizationId/jobs')
export class JobsController {
  constructor(private readonly jobs: JobService) {}

  @Get()
  @Authorized(Permission.OrgManage)
  @ApiOperation({ summary: "The organization's recent background job runs, newest first" })
  async list(@Auth() auth: AuthContext, @Param() _p: OrganizationPathParams, @Query() q: JobsQuery): Promise<JobRunsResponse> {
    return { jobs: (await this.jobs.list(auth.organizationId, q.limit ?? 50)).map(toJobRunResponse) };
  }
}
