import { Client, type ClientConfig } from 'pg';

/**
 * A connection as the connecting user, the owner of the tables: not under row-level security, and allowed DDL and
 * maintenance. Only these kinds of code use it, each named here so that a reader can check them:
 * - the migrations (src/database/migrate.ts) and the demo data generator's bulk load (src/demo-data/);
 * - the rebuild and swap of an organization's metrics partition: its CREATE/ATTACH/DETACH/DROP and index builds
 *   (src/scoring/recompute/metrics-partition-swap.ts);
 * - the build and swap of a large organization's opportunities partition: its CREATE/ATTACH/DROP, index builds and
 *   the swap's transaction with the refresh state (src/opportunities/opportunities-partition-swap.ts, driven by
 *   OpportunitiesRefresher, which holds the organization's refresh lock on that connection);
 * - the build and swap of a large organization's engagement rollup (`engagement_patient_days` partition): its
 *   CREATE/ATTACH/DROP, index builds and the swap's transaction with the rollup's steps and row
 *   (src/engagement/engagement-partition-swap.ts, driven by EngagementRollupService, which holds the rollup's lock on
 *   that connection; the steps' statement is EngagementRollupRepository.saveSwapped's);
 * - VACUUM and ANALYZE of the scoring tables after an organization-wide recompute (src/scoring/recompute/maintenance.ts),
 *   ANALYZE of the tables whose statistics do not know an organization, before and after its run
 *   (organizationUnseenTables) and by the `organization-statistics` job after its ingestion
 *   (src/scoring/statistics/organization-statistics.job.ts), and ANALYZE of the tables a large FHIR import writes, as
 *   they grow and at its end (src/fhir-import/import-statistics.ts).
 * Everything else reaches the database as the runtime role through TenantDb, BatchTenantConnection or CrossTenantDb.
 */
export class OwnerConnection {
  private constructor(private readonly client: Client) {}

  static async open(config: ClientConfig): Promise<OwnerConnection> {
    const client = new Client(config);
    await client.connect();
    client.on('error', () => undefined);
    return new OwnerConnection(client);
  }

  async query<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.client.query(sql, params as unknown[])).rows as T[];
  }

  /** An identifier, quoted for SQL. */
  escapeIdentifier(name: string): string {
    return this.client.escapeIdentifier(name);
  }

  end(): Promise<void> {
    return this.client.end().catch(() => undefined);
  }
}
