import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'users' })
@Unique('uq_users_email', ['email'])
@Check('ck_users_email_lower', 'email = lower(email)')
@Unique('uq_users_external_subject', ['externalSubject'])
export class User {
  @PrimaryGeneratedColumn('uuid', { name: 'id', primaryKeyConstraintName: 'pk_users' })
  id: string;

  /** Always stored lower-cased (normalize before insert/lookup). */
  @Column({ name: 'email', type: 'varchar', length: 320 })
  email: string;

  @Column({ name: 'name', type: 'varchar', length: 200 })
  name: string;

  /** OIDC `sub` claim of the identity provider; null until the user first signs in. */
  @Column({ name: 'external_subject', type: 'varchar', length: 255, nullable: true })
  externalSubject: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
