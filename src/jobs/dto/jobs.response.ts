import { ApiProperty } from '@nestjs/swagger';

export class JobRunResponse {
  id: string;
  /** What runs: `nightly-recompute`, `opportunities-refresh`, `engagement-rebuild`... */
  type: string;
  /** `failed` includes a cancelled run (its `error` says so). */
  @ApiProperty({ enum: ['queued', 'running', 'succeeded', 'failed'] })
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  /** When it was enqueued (ISO 8601). */
  queued_at: string;
  @ApiProperty({ type: String, nullable: true, description: 'When its latest attempt started.' })
  started_at: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'When it ended.' })
  finished_at: string | null;
  /** Attempts started so far. */
  @ApiProperty({ type: 'integer' })
  attempts: number;
  @ApiProperty({ type: String, nullable: true, description: 'The process that runs or ran it (host:pid).' })
  worker: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why its latest attempt failed.' })
  error: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'From 0 to 1 while it runs.' })
  progress: number | null;
}

export class JobRunsResponse {
  /** The organization's recent job runs, newest first. */
  @ApiProperty({ type: [JobRunResponse] })
  jobs: JobRunResponse[];
}
