import { Check, Column, Entity, ForeignKey, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { inCheck, OrgScopedEntity } from 'src/database/entities/org-scoped.entity';
import { Role } from 'src/organizations/organizations.enums';
import { Organization } from 'src/organizations/entities/organization.entity';
import { User } from 'src/organizations/entities/user.entity';

@Entity({ name: 'memberships' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], {
  name: 'fk_memberships_organization_id',
  onDelete: 'CASCADE',
})
@Unique('uq_memberships_organization_id_user_id', ['organizationId', 'userId'])
@Index('idx_memberships_user_id', ['userId'])
@Check('ck_memberships_role', inCheck('role', Role))
export class Membership extends OrgScopedEntity {
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_memberships_user_id' })
  user?: User;

  @Column({ name: 'role', type: 'varchar', length: 16 })
  role: Role;
}
