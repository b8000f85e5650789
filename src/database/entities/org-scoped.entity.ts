import { Column, CreateDateColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/**
 * Columns shared by every organization-owned table, without a primary key.
 * Used directly by tables whose primary key is not a generated `id`
 * (e.g. `patient_metrics`, `risk_score_history`).
 *
 * The FK `organization_id -> organizations(id) ON DELETE CASCADE` is declared on
 * each concrete entity with a class-level `@ForeignKey(() => Organization, ...)`
 * so that every constraint gets an explicit, table-specific name.
 */
export abstract class OrgOwnedEntity {
  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/**
 * Organization-owned row with a generated uuid primary key `id`. Declares the
 * shared columns itself (instead of extending `OrgOwnedEntity`) so that `id` is the
 * first column of the table: TypeORM emits inherited columns top class first.
 *
 * The primary key constraint name cannot be set per table from a base class; TypeORM
 * names it `PK_<hash of table and column>` (deterministic, so migrations stay stable).
 */
export abstract class OrgScopedEntity {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/**
 * Row imported from an outside system (EHR, PMS, ...), identified there by
 * (`source`, `external_id`). Each concrete table declares
 * `@Unique('uq_<table>_source_external_id', ['organizationId', 'source', 'externalId'])`.
 */
export abstract class SourcedEntity extends OrgScopedEntity {
  @Column({ name: 'source', type: 'varchar', length: 64 })
  source: string;

  @Column({ name: 'external_id', type: 'varchar', length: 128 })
  externalId: string;
}

/**
 * SQL for an enum CHECK constraint built from a const enum-like object, so the
 * constraint cannot drift from the TS values:
 * `inCheck('status', { A: 'a', B: 'b' })` -> `status IN ('a', 'b')`.
 */
export function inCheck(column: string, values: Readonly<Record<string, string>>): string {
  const list = Object.values(values)
    .map((v) => `'${v.replaceAll("'", "''")}'`)
    .join(', ');
  return `${column} IN (${list})`;
}
