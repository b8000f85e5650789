import { pendingSchemaChanges } from 'src/database/migrate';
import { ENTITIES } from 'src/entities';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

describe('migrations and entities', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('agree: migration:generate against a migrated database would write nothing', async () => {
    const pending = await pendingSchemaChanges(db.url, ENTITIES);
    expect(pending).toEqual([]);
  });

  it('leave synchronize off and create the runtime role without superuser or BYPASSRLS', async () => {
    const [role] = await db.query<{ rolsuper: boolean; rolbypassrls: boolean; rolcanlogin: boolean }>(
      `SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'patient_journey_app'`,
    );
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false, rolcanlogin: false });
    const owners = await db.query<{ tableowner: string }>(`SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'`);
    expect(owners.map((o) => o.tableowner)).not.toContain('patient_journey_app');
  });
});
