import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { inCheck } from 'src/database/entities/org-scoped.entity';
import { Organization } from 'src/organizations/entities/organization.entity';
import { JobStatus } from 'src/jobs/job.types';

/**
 * One run of a background job (src/jobs/): what the organization's job list shows, and the durable record that lets
 * a job survive its process (a restart finds it and resumes or fails it, never leaves it running). The queue
 * (BullMQ, or in process without Redis) only carries the run's id.
 */
@Entity({ name: 'job_runs' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], { name: 'fk_job_runs_organization_id', onDelete: 'CASCADE' })
@Index('idx_job_runs_organization_id_queued_at', ['organizationId', 'queuedAt'])
@Index('uq_job_runs_organization_id_type_dedup_key', ['organizationId', 'type', 'dedupKey'], { unique: true, where: 'dedup_key IS NOT NULL' })
@Index('idx_job_runs_unfinished', ['status'], { where: `status IN ('queued', 'running')` })
@Check('ck_job_runs_status', inCheck('status', JobStatus))
@Check('ck_job_runs_progress', 'progress IS NULL OR (progress >= 0 AND progress <= 1)')
export class JobRun {
  @PrimaryGeneratedColumn('uuid', { name: 'id', primaryKeyConstraintName: 'pk_job_runs' })
  id: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  /** What runs (JobType): `nightly-recompute`, `opportunities-refresh`... */
  @Column({ name: 'type', type: 'varchar', length: 64 })
  type: string;

  /** When set, at most one run of the organization and type carries it: a second enqueue of the same work is a no-op. */
  @Column({ name: 'dedup_key', type: 'varchar', length: 200, nullable: true })
  dedupKey: string | null;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status: JobStatus;

  /** The job's input (never PHI: ids and options). */
  @Column({ name: 'payload', type: 'jsonb', default: {} })
  payload: Record<string, unknown>;

  /** What the job reports when it succeeds (counts, durations, ids: never PHI). */
  @Column({ name: 'result', type: 'jsonb', nullable: true })
  result: Record<string, unknown> | null;

  /** 0 to 1 while it runs, as the job reports it. */
  @Column({ name: 'progress', type: 'real', nullable: true })
  progress: number | null;

  @Column({ name: 'queued_at', type: 'timestamptz' })
  queuedAt: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @Column({ name: 'attempts', type: 'integer', default: 0 })
  attempts: number;

  /** The process that runs (or ran) it: `host:pid`. */
  @Column({ name: 'worker', type: 'varchar', length: 200, nullable: true })
  worker: string | null;

  /** Why it failed, in a line (never PHI). */
  @Column({ name: 'error', type: 'text', nullable: true })
  error: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
