import { Controller, Get } from '@nestjs/common';
import { ApiExtraModels, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { Public } from 'src/common/http/public.decorator';
import { problem, ProblemCode } from 'src/common/problem/problem';
import { Database } from 'src/database/database';
import { HealthIndicatorResponse, LivenessResponse, ReadinessResponse } from 'src/health/health.response';

@ApiTags('health')
@ApiExtraModels(HealthIndicatorResponse)
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: Database,
  ) {}

  @Get()
  @Endpoint({
    operationId: 'checkLiveness',
    summary: 'Check liveness',
    description: 'The process answers. Touches no database: for a liveness probe. Needs no token.',
    response: { description: 'Alive.', type: LivenessResponse, example: { status: 'ok' } },
  })
  checkLiveness(): LivenessResponse {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false })
  @Endpoint({
    operationId: 'checkReadiness',
    summary: 'Check readiness',
    description: 'The database answers a ping within 1.5 s: for a readiness probe. Needs no token.',
    response: {
      description: 'Ready.',
      type: ReadinessResponse,
      example: { status: 'ok', info: { database: { status: 'up' } }, error: {}, details: { database: { status: 'up' } } },
    },
    problems: [
      {
        status: 503,
        description: 'The database does not answer (or the process is shutting down).',
        example: problem(ProblemCode.ServiceUnavailable, 503, 'The server failed to answer this request'),
      },
    ],
  })
  checkReadiness(): Promise<HealthCheckResult> {
    return this.health.check([
      () =>
        this.indicators
          .check('database')
          .attempt(() => this.database.ping(1500))
          .withTimeout(1500),
    ]);
  }
}
