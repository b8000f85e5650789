import type { Bundle, Resource } from '@medplum/fhirtypes';
import { Role } from 'src/organizations/organizations.enums';
import { fhirProblems, loadFhirDefinitions } from 'src/privacy/export/fhir-validator';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createTestApp, TestApp } from 'test/utils/test-app';
import { seedFullPatient } from 'test/privacy/export-fixtures';

const countBy = (resources: Resource[]): Record<string, number> =>
  resources.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.resourceType]: (acc[r.resourceType] ?? 0) + 1 }), {});

/** Every patient reference a resource makes (subject, patient, for, participants, author, extensions...). */
const patientRefs = (resource: Resource): string[] =>
  [...JSON.stringify(resource).matchAll(/"reference":"Patient\/([0-9a-f-]{36})"/g)].map((m) => m[1]);

describe("GET /patients/{organizationId}/profile/{patientId}/export (one patient's record)", () => {
  let t: TestApp;
  let org: string;
  let owner: string;
  let patient: Awaited<ReturnType<typeof seedFullPatient>>;
  let other: Awaited<ReturnType<typeof seedFullPatient>>;
  const url = (patientId: string, query = '') => `/api/v1/patients/${org}/profile/${patientId}/export${query}`;

  beforeAll(async () => {
    loadFhirDefinitions();
    t = await createTestApp();
    org = (await createOrganization(t.db)).id;
    owner = await memberToken(t, org, Role.Owner);
    patient = await seedFullPatient(t, org, 2, 'Jane Exportable');
    other = await seedFullPatient(t, org, 1);
  }, 120_000);
  afterAll(() => t.close());

  /** What the database holds for the patient, per table. */
  const stored = async (patientId: string): Promise<Record<string, number>> => {
    const [row] = await t.db.query<Record<string, number>>(
      `SELECT (SELECT count(*) FROM appointments WHERE patient_id = $1)::int AS appointments,
              (SELECT count(*) FROM payments WHERE patient_id = $1 AND kind = 'charge')::int AS charges,
              (SELECT count(*) FROM payments WHERE patient_id = $1 AND kind <> 'charge')::int AS payments,
              (SELECT count(*) FROM communications WHERE patient_id = $1)::int AS communications,
              (SELECT count(*) FROM survey_responses WHERE patient_id = $1)::int AS surveys,
              (SELECT count(*) FROM treatment_plans WHERE patient_id = $1)::int AS plans,
              (SELECT count(*) FROM referrals WHERE referrer_patient_id = $1 OR referred_patient_id = $1)::int AS referrals,
              (SELECT count(*) FROM journey_events WHERE patient_id = $1)::int AS journey_events,
              (SELECT count(*) FROM automation_enrollments WHERE patient_id = $1)::int AS enrollments,
              (SELECT count(*) FROM patient_metrics WHERE patient_id = $1)::int AS scores,
              (SELECT count(*) FROM risk_score_history WHERE patient_id = $1)::int AS risk_history,
              (SELECT count(*) FROM reengagement_opportunities WHERE patient_id = $1)::int AS opportunities`,
      [patientId],
    );
    return row;
  };

  it("answers a FHIR R4 collection Bundle holding exactly the patient's records, every one valid", async () => {
    const res = await t.inject({ method: 'GET', url: url(patient.patientId), headers: bearer(owner) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const bundle = res.json() as Bundle;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection', timestamp: '2026-11-24T12:00:00.000Z' });
    const resources = (bundle.entry ?? []).map((e) => e.resource as Resource);
    const db = await stored(patient.patientId);
    const { counts } = patient;
    expect(countBy(resources)).toEqual({
      Patient: 1,
      Condition: counts.conditions,
      AllergyIntolerance: counts.allergies,
      MedicationStatement: counts.medications,
      Consent: 2,
      Appointment: db.appointments,
      Invoice: db.charges,
      PaymentReconciliation: db.payments,
      Communication: db.communications,
      QuestionnaireResponse: db.surveys,
      CarePlan: db.plans,
      Basic: db.referrals + db.journey_events,
      Task: db.enrollments,
      Observation: db.scores + db.risk_history + db.opportunities,
    });
    // The database holds what the fixture wrote: the comparison above is not vacuous.
    expect(db).toEqual({
      appointments: counts.appointments,
      charges: counts.charges,
      payments: counts.payments,
      communications: counts.communications,
      surveys: counts.surveys,
      plans: counts.plans,
      referrals: counts.referrals,
      journey_events: counts.journeyEvents,
      enrollments: counts.enrollments,
      scores: 1,
      risk_history: counts.riskHistory,
      opportunities: 1,
    });
    // The appointments are the patient's own, by id.
    const appointmentIds = await t.db.query<{ id: string }>(`SELECT id FROM appointments WHERE patient_id = $1 ORDER BY id`, [
      patient.patientId,
    ]);
    expect(
      resources
        .filter((r) => r.resourceType === 'Appointment')
        .map((r) => r.id)
        .sort(),
    ).toEqual(appointmentIds.map((a) => a.id));
    // Nothing of the other patient; the referrer appears only as the author of the referral.
    const refs = new Set(resources.flatMap(patientRefs));
    expect(refs.has(other.patientId)).toBe(false);
    expect([...refs].sort()).toEqual([patient.patientId, patient.referrerId].sort());
    // Decrypted PHI, mapped.
    const fhirPatient = resources.find((r) => r.resourceType === 'Patient');
    expect(fhirPatient).toMatchObject({
      id: patient.patientId,
      active: true,
      name: [{ text: 'Jane Exportable' }],
      birthDate: '1980-05-17',
    });
    expect(resources.find((r) => r.resourceType === 'Appointment' && 'comment' in r)).toMatchObject({
      comment: 'Sensitive note about the patient',
    });
    expect(resources.filter((r) => r.resourceType === 'Consent').map((c) => (c as { provision: { type: string } }).provision.type)).toEqual(
      ['permit', 'deny'],
    );
    // Every resource validates against the R4 base definitions.
    expect(fhirProblems(bundle)).toEqual([]);
  });

  it("answers the same content in the project's snake_case JSON with format=json", async () => {
    const res = await t.inject({ method: 'GET', url: url(patient.patientId, '?format=json'), headers: bearer(owner) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json() as Record<string, unknown[]> & { patient: Record<string, unknown> };
    const db = await stored(patient.patientId);
    expect(body.patient).toMatchObject({
      id: patient.patientId,
      name: 'Jane Exportable',
      date_of_birth: '1980-05-17',
      medications: ['Ibuprofen', 'Chlorhexidine', 'Amoxicillin'],
      communication_preferences: { preferred_channel: 'sms', marketing_consent: true, appointment_reminders: false },
    });
    expect(body.patient.email).toMatch(/^jane\..*@example\.test$/);
    expect({
      appointments: body.appointments.length,
      payments: body.payments.length,
      communications: body.communications.length,
      survey_responses: body.survey_responses.length,
      treatment_plans: body.treatment_plans.length,
      referrals: body.referrals.length,
      journey_events: body.journey_events.length,
      automation_enrollments: body.automation_enrollments.length,
      scores: body.scores.length,
      risk_history: body.risk_history.length,
      opportunities: body.opportunities.length,
    }).toEqual({
      appointments: db.appointments,
      payments: db.charges + db.payments,
      communications: db.communications,
      survey_responses: db.surveys,
      treatment_plans: db.plans,
      referrals: db.referrals,
      journey_events: db.journey_events,
      automation_enrollments: db.enrollments,
      scores: db.scores,
      risk_history: db.risk_history,
      opportunities: db.opportunities,
    });
    expect(body.scores[0]).toMatchObject({ risk_score: 42, engagement_score: 61, lifetime_value: 1234.56 });
  });

  it('is not capped: a patient with 1,500 appointments gets all of them', async () => {
    const many = await seedFullPatient(t, org, 0);
    await t.db.query(
      `INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status, value_cents)
       SELECT $1, 'bulk', 'many-' || g, $2, timestamptz '2020-01-01' + g * interval '1 day', 'check-up', 'completed', 100
         FROM generate_series(1, 1500) g`,
      [org, many.patientId],
    );
    const res = await t.inject({ method: 'GET', url: url(many.patientId), headers: bearer(owner) });
    const appointments = (res.json() as Bundle).entry!.filter((e) => e.resource?.resourceType === 'Appointment');
    expect(appointments).toHaveLength(1500 + many.counts.appointments);
  });

  it('records one export event per call, with the patient id and no PHI, before answering', async () => {
    const before = await t.db.query(`SELECT 1 FROM audit_events WHERE organization_id = $1 AND action = 'export'`, [org]);
    const res = await t.inject({ method: 'GET', url: url(patient.patientId), headers: bearer(owner) });
    expect(res.statusCode).toBe(200);
    const events = await t.db.query<Record<string, unknown>>(
      `SELECT action, resource, patient_ids::text[] AS patient_ids, outcome, status_code, query FROM audit_events
        WHERE organization_id = $1 AND action = 'export' ORDER BY seq`,
      [org],
    );
    expect(events.length).toBe(before.length + 1);
    expect(events[events.length - 1]).toMatchObject({
      action: 'export',
      resource: 'patient_record',
      patient_ids: [patient.patientId],
      outcome: 'success',
      status_code: 200,
    });
    const all = JSON.stringify(await t.db.query(`SELECT * FROM audit_events WHERE organization_id = $1`, [org]));
    expect(all).not.toContain('Jane Exportable');
    expect(all).not.toContain('Sensitive note');
  });

  it('is for privacy:manage only: 403 for the other roles and for another organization', async () => {
    const admin = await memberToken(t, org, Role.Admin);
    expect((await t.inject({ method: 'GET', url: url(patient.patientId), headers: bearer(admin) })).statusCode).toBe(200);
    const denied = [Role.Clinician, Role.FrontDesk, Role.Marketing, Role.Analyst];
    for (const role of denied) {
      const res = await t.inject({ method: 'GET', url: url(patient.patientId), headers: bearer(await memberToken(t, org, role)) });
      expect([role, res.statusCode, res.json().type]).toEqual([role, 403, 'https://patient-journey.dev/problems/permission-denied']);
      expect(res.body).not.toContain('Jane');
    }
    const stranger = await memberToken(t, (await createOrganization(t.db)).id, Role.Owner);
    expect((await t.inject({ method: 'GET', url: url(patient.patientId), headers: bearer(stranger) })).statusCode).toBe(403);
    expect((await t.inject({ method: 'GET', url: url(patient.patientId) })).statusCode).toBe(401);
  });

  it("answers 404 for an unknown patient and for another organization's, 400 for a bad format", async () => {
    const unknown = await t.inject({ method: 'GET', url: url('00000000-0000-4000-8000-000000000000'), headers: bearer(owner) });
    expect([unknown.statusCode, unknown.json().type]).toEqual([404, 'https://patient-journey.dev/problems/patient-not-found']);
    const otherOrg = (await createOrganization(t.db)).id;
    const foreign = await seedFullPatient(t, otherOrg, 0);
    expect((await t.inject({ method: 'GET', url: url(foreign.patientId), headers: bearer(owner) })).statusCode).toBe(404);
    const bad = await t.inject({ method: 'GET', url: url(patient.patientId, '?format=xml'), headers: bearer(owner) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([expect.objectContaining({ field: 'format' })]);
  });
});
