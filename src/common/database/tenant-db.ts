import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/**
 * The only way request-path code reaches tenant tables: every call names its organization, runs in a transaction,
 * and sets the transaction-local `app.organization_id` that the row-level security policies read. A query that
 * forgets its `organization_id` filter still sees only this organization's rows.
 */
@Injectable()
export class TenantDb {
  constructor(private readonly dataSource: DataSource) {}

  run<T>(organizationId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!organizationId) throw new Error('TenantDb.run needs an organization id');
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT set_config('app.organization_id', $1, true)`, [organizationId]);
      return work(manager);
    });
  }
}
