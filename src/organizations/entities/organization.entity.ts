import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'organizations' })
@Unique('uq_organizations_slug', ['slug'])
export class Organization {
  @PrimaryGeneratedColumn('uuid', { name: 'id', primaryKeyConstraintName: 'pk_organizations' })
  id: string;

  @Column({ name: 'slug', type: 'varchar', length: 63 })
  slug: string;

  @Column({ name: 'name', type: 'varchar', length: 200 })
  name: string;

  /** IANA time zone name, e.g. `Europe/Berlin`. */
  @Column({ name: 'timezone', type: 'varchar', length: 64, default: 'UTC' })
  timezone: string;

  /** ISO 4217 currency code; all `*_cents` amounts of the organization are in this currency. */
  @Column({ name: 'currency', type: 'char', length: 3, default: 'USD' })
  currency: string;

  @Column({ name: 'settings', type: 'jsonb', default: {} })
  settings: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
