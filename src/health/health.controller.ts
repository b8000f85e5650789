import { Controller, Get } from '@nestjs/common';
import { ApiExtraModels, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { Public } from 'src/common/http/public.decorator';
import { problem, ProblemCode } from 'src/common/problem/problem';
import { ShutdownState } from 'src/common/resilience/shutdown-state';
import { Database } from 'src/database/database';
import { HealthIndicatorResponse, LivenessResponse, ReadinessResponse } from 'src/health/health.response';

/** Readiness answers within this bound whatever the database does (at once while its breaker is open). */
const READINESS_PING_MS = 750;

@ApiTags('health')
@ApiExtraModels(HealthIndicatorResponse)
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: Database,
    private readonly shutdown: ShutdownState,
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
    description:
      'The process is not shutting down and the database answers a ping within 1 s: for a readiness probe. Answers 503 at once while the ' +
      "database's circuit breaker is open or the process drains after SIGTERM. Needs no token.",
    response: {
      description: 'Ready.',
      type: ReadinessResponse,
      example: { status: 'ok', info: { database: { status: 'up' } }, error: {}, details: { database: { status: 'up' } } },
    },
    problems: [
      {
        status: 503,
        description: 'The database does not answer (its circuit breaker is open), or the process is shutting down.',
        example: problem(ProblemCode.ServiceUnavailable, 503, 'The server failed to answer this request'),
      },
    ],
  })
  checkReadiness(): Promise<HealthCheckResult> {
    return this.health.check([
      () => {
        const indicator = this.indicators.check('process');
        return this.shutdown.draining ? indicator.down({ message: 'shutting down' }) : indicator.up();
      },
      () =>
        this.indicators
          .check('database')
          .attempt(() => this.database.ping(READINESS_PING_MS))
          .withTimeout(READINESS_PING_MS),
    ]);
  }
}
