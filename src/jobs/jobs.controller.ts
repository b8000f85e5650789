import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { JOB_RUNS_EXAMPLE } from 'src/jobs/dto/jobs.examples';
import { JobsQuery } from 'src/jobs/dto/jobs.query';
import { JobRunsResponse } from 'src/jobs/dto/jobs.response';
import { toJobRunResponse } from 'src/jobs/job-run.mapper';
import { JobService } from 'src/jobs/job.service';

@ApiTags('jobs')
@Controller('organizations/:organizationId/jobs')
export class JobsController {
  constructor(private readonly jobs: JobService) {}

  @Get()
  @Authorized(Permission.OrgManage)
  @Endpoint({
    operationId: 'listJobRuns',
    summary: 'List background job runs',
    description:
      "The organization's recent background job runs (nightly recompute, opportunities refresh, engagement rebuild...), newest first: " +
      'when each was queued, started and finished, its attempts, the worker that ran it and why it failed.',
    response: { description: 'The runs, newest first.', type: JobRunsResponse, example: JOB_RUNS_EXAMPLE },
  })
  async listJobRuns(@Auth() auth: AuthContext, @Param() _p: OrganizationParams, @Query() q: JobsQuery): Promise<JobRunsResponse> {
    return { jobs: (await this.jobs.list(auth.organizationId, q.limit ?? 50)).map(toJobRunResponse) };
  }
}
