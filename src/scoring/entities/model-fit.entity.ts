import { Check, Column, Entity, ForeignKey, Index } from 'typeorm';
import { inCheck, OrgScopedEntity } from 'src/database/entities/org-scoped.entity';
import { Organization } from 'src/organizations/entities/organization.entity';
import { ModelKind } from 'src/scoring/domain/scoring-models';

/**
 * A fit of a CLV model (BG/NBD or Gamma-Gamma) for one organization; the latest `fitted_at` wins. A fit attempt whose
 * parameters cannot be used (`accepted` false: too little history, or a likelihood maximum at implausible values)
 * is stored too: the scores then use the domain's fallbacks until the next attempt.
 */
@Entity({ name: 'model_fits' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], {
  name: 'fk_model_fits_organization_id',
  onDelete: 'CASCADE',
})
@Index('idx_model_fits_organization_id_model_fitted_at', ['organizationId', 'model', 'fittedAt'])
@Check('ck_model_fits_model', inCheck('model', ModelKind))
export class ModelFit extends OrgScopedEntity {
  @Column({ name: 'model', type: 'varchar', length: 32 })
  model: ModelKind;

  @Column({ name: 'params', type: 'jsonb' })
  params: Record<string, number>;

  @Column({ name: 'log_likelihood', type: 'double precision', nullable: true })
  logLikelihood: number | null;

  @Column({ name: 'sample_size', type: 'integer' })
  sampleSize: number;

  @Column({ name: 'fitted_at', type: 'timestamptz' })
  fittedAt: Date;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;

  @Column({ name: 'accepted', type: 'boolean', default: true })
  accepted: boolean;

  /** The scoring settings it was fitted under (scoringSettingsKey); null for fits made before it was recorded. */
  @Column({ name: 'settings_key', type: 'varchar', length: 64, nullable: true })
  settingsKey: string | null;
}
