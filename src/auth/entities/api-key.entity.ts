import { Column, Entity, ForeignKey, Unique } from 'typeorm';
import { OrgScopedEntity } from 'src/database/entities/org-scoped.entity';
import { Organization } from 'src/organizations/entities/organization.entity';

@Entity({ name: 'api_keys' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], {
  name: 'fk_api_keys_organization_id',
  onDelete: 'CASCADE',
})
@Unique('uq_api_keys_key_hash', ['keyHash'])
export class ApiKey extends OrgScopedEntity {
  @Column({ name: 'name', type: 'varchar', length: 100 })
  name: string;

  /** Non-secret leading part of the key, shown in listings to identify it. */
  @Column({ name: 'prefix', type: 'varchar', length: 16 })
  prefix: string;

  /** Lower-case hex SHA-256 of the full key; the key itself is never stored. */
  @Column({ name: 'key_hash', type: 'varchar', length: 64 })
  keyHash: string;

  @Column({ name: 'permissions', type: 'text', array: true })
  permissions: string[];

  /** Id of the user who created the key (no FK: keeps the key if the user is deleted). */
  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy: string | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;
}
