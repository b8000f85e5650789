import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

describe('patient references', () => {
  let db: TestDatabase;
  let orgA: string;
  let orgB: string;
  let patientA: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    [{ id: orgA }, { id: orgB }] = await db.query<{ id: string }>(`INSERT INTO organizations (slug, name) VALUES ('a', 'A'), ('b', 'B') RETURNING id`);
    [{ id: patientA }] = await db.query<{ id: string }>(`INSERT INTO patients (organization_id, source, external_id, name) VALUES ($1, 's', 'p1', 'Ann') RETURNING id`, [orgA]);
  });
  afterAll(() => db.drop());

  it("refuses a record of one organization pointing at another organization's patient", async () => {
    await expect(
      db.query(`INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status) VALUES ($1, 's', 'a1', $2, now(), 't', 'completed')`, [orgB, patientA]),
    ).rejects.toThrow(/fk_appointments_patient_id/);
  });

  it("deleting a patient removes its records and clears referrers' links", async () => {
    const [{ id: referred }] = await db.query<{ id: string }>(`INSERT INTO patients (organization_id, source, external_id, name, referred_by_id) VALUES ($1, 's', 'p2', 'Bob', $2) RETURNING id`, [orgA, patientA]);
    await db.query(`INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status) VALUES ($1, 's', 'a2', $2, now(), 't', 'completed')`, [orgA, patientA]);
    await db.query(`INSERT INTO referrals (organization_id, source, external_id, referrer_patient_id, referred_patient_id, referred_at) VALUES ($1, 's', 'r1', $2, $3, now())`, [orgA, patientA, referred]);
    await db.query(`DELETE FROM patients WHERE id = $1`, [patientA]);
    const [counts] = await db.query<{ appointments: string; referrals: string; referred_by: string | null }>(
      `SELECT (SELECT count(*) FROM appointments) AS appointments, (SELECT count(*) FROM referrals) AS referrals, (SELECT referred_by_id FROM patients WHERE id = $1) AS referred_by`,
      [referred],
    );
    expect(counts).toEqual({ appointments: '0', referrals: '0', referred_by: null });
  });
});
