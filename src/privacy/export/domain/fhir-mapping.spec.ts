import {
  EXPORT_RESOURCE_TYPES,
  KIND_RESOURCE_TYPES,
  toAppointment,
  toCarePlan,
  toCommunication,
  toFhirResources,
  toOpportunity,
  toPatient,
  toPayment,
  toQuestionnaireResponse,
  toScores,
  toTask,
} from 'src/privacy/export/domain/fhir-mapping';

const ctx = { currency: 'EUR' };
const P = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
const T = '2026-01-05T09:00:00.000Z';

const fullPatient = {
  id: P,
  source: 'ehr',
  external_id: 'p-1',
  name: 'Jane Doe',
  phone: '+15550100',
  email: 'jane@example.test',
  date_of_birth: '1980-05-17',
  address: { street: '1 Main St', city: 'Springfield', state: 'IL', zip: '62701' },
  conditions: ['Gingivitis'],
  allergies: ['Penicillin'],
  medications: ['Ibuprofen'],
  communication_preferences: { preferred_channel: 'email', marketing_consent: false, appointment_reminders: true },
  referred_by_id: '00000000-0000-4000-8000-000000000001',
  registered_at: T,
  deleted_at: null,
  updated_at: T,
};

describe('FHIR mapping of the record kinds', () => {
  it('maps a patient row to its Patient, conditions, allergies, medications and two consents', () => {
    const resources = toFhirResources('patients', fullPatient, ctx);
    expect(resources.map((r) => r.resourceType)).toEqual([
      'Patient',
      'Condition',
      'AllergyIntolerance',
      'MedicationStatement',
      'Consent',
      'Consent',
    ]);
    expect(resources[0]).toMatchObject({
      id: P,
      active: true,
      identifier: [{ system: 'https://patient-journey.dev/fhir/source/ehr', value: 'p-1' }],
      telecom: [
        { system: 'phone', value: '+15550100' },
        { system: 'email', value: 'jane@example.test', rank: 1 },
      ],
      birthDate: '1980-05-17',
      address: [{ line: ['1 Main St'], city: 'Springfield', state: 'IL', postalCode: '62701' }],
    });
    expect(resources.slice(4).map((c) => (c as { provision: { type: string } }).provision.type)).toEqual(['deny', 'permit']);
  });

  it('leaves out what a sparse patient row lacks, and keeps an unparseable birth date as an extension', () => {
    const patient = toPatient({
      id: P,
      name: 'X',
      date_of_birth: '17/05/1980',
      communication_preferences: { preferred_channel: 'sms' },
      deleted_at: T,
    });
    expect(patient).not.toHaveProperty('telecom');
    expect(patient).not.toHaveProperty('address');
    expect(patient).not.toHaveProperty('birthDate');
    expect(patient).not.toHaveProperty('identifier');
    expect(patient.active).toBe(false);
    expect(patient.extension?.map((e) => e.url.split('/').pop())).toEqual(['preferred-channel', 'deleted-at', 'date-of-birth-as-recorded']);
    expect(
      toPatient({ id: P, phone: '1', communication_preferences: { preferred_channel: 'phone' }, address: { street: null, city: 'A' } }),
    ).toMatchObject({
      telecom: [{ system: 'phone', value: '1', rank: 1 }],
      address: [{ city: 'A' }],
    });
    expect(toFhirResources('patients', { id: P }, ctx).map((r) => r.resourceType)).toEqual(['Patient', 'Consent', 'Consent']);
  });

  it.each([
    ['scheduled', 'booked'],
    ['completed', 'fulfilled'],
    ['cancelled', 'cancelled'],
    ['no_show', 'noshow'],
    ['unheard-of', 'booked'],
  ])('maps appointment status %s to %s, end = start', (status, expected) => {
    const a = toAppointment({ id: 'a', patient_id: P, status, starts_at: T, type: 'check-up', value: 12.5 }, ctx);
    expect(a).toMatchObject({
      status: expected,
      start: T,
      end: T,
      participant: [{ actor: { reference: `Patient/${P}` }, status: 'accepted' }],
    });
  });

  it.each([
    ['charge', 'paid', 'Invoice', 'balanced'],
    ['charge', 'overdue', 'Invoice', 'issued'],
    ['charge', 'failed', 'Invoice', 'cancelled'],
    ['charge', 'strange', 'Invoice', 'issued'],
    ['payment', 'paid', 'PaymentReconciliation', 'active'],
    ['payment', 'failed', 'PaymentReconciliation', 'cancelled'],
    ['payment', 'pending', 'PaymentReconciliation', 'active'],
    ['refund', 'refunded', 'PaymentReconciliation', 'active'],
  ])('maps a %s (%s) to %s with status %s', (kind, status, type, expected) => {
    const r = toPayment({ id: 'x', patient_id: P, kind, status, amount: 50, occurred_at: T }, ctx);
    expect([r.resourceType, r.status]).toEqual([type, expected]);
    const amount = r.resourceType === 'PaymentReconciliation' ? r.paymentAmount : r.totalGross;
    expect(amount).toEqual({ value: kind === 'refund' ? -50 : 50, currency: 'EUR' });
  });

  it('maps a payment without an amount to zero', () => {
    expect(toPayment({ id: 'x', patient_id: P, kind: 'payment', status: 'paid', occurred_at: T }, ctx)).toMatchObject({
      paymentAmount: { value: 0 },
      outcome: 'complete',
    });
  });

  it('maps communications by direction', () => {
    const inbound = toCommunication({
      id: 'c',
      patient_id: P,
      direction: 'inbound',
      channel: 'whatsapp',
      kind: 'message',
      occurred_at: T,
      notes: 'hi',
    });
    expect(inbound).toMatchObject({ received: T, sender: { reference: `Patient/${P}` }, note: [{ text: 'hi' }] });
    expect(inbound).not.toHaveProperty('sent');
    const outbound = toCommunication({
      id: 'c',
      patient_id: P,
      direction: 'outbound',
      channel: 'email',
      kind: 'email',
      occurred_at: T,
      notes: null,
    });
    expect(outbound).toMatchObject({ sent: T, recipient: [{ reference: `Patient/${P}` }] });
    expect(outbound).not.toHaveProperty('note');
  });

  it('maps a survey to answered items only', () => {
    expect(
      toQuestionnaireResponse({ id: 's', patient_id: P, satisfaction: 4, nps: null, complaint: true, comment: 'ok' }).item?.map(
        (i) => i.linkId,
      ),
    ).toEqual(['satisfaction', 'complaint', 'comment']);
    expect(
      toQuestionnaireResponse({ id: 's', patient_id: P, satisfaction: null, nps: 7, complaint: false, comment: null }).item?.map(
        (i) => i.linkId,
      ),
    ).toEqual(['nps', 'complaint']);
  });

  it.each([
    ['active', 'active'],
    ['completed', 'completed'],
    ['abandoned', 'revoked'],
    ['odd', 'unknown'],
  ])('maps treatment plan status %s to %s', (status, expected) => {
    expect(
      toCarePlan(
        { id: 't', patient_id: P, status, planned_sessions: 3, completed_sessions: 1, session_value: 90, started_at: T, ends_at: null },
        ctx,
      ).status,
    ).toBe(expected);
  });

  it.each([
    ['active', 'in-progress'],
    ['paused', 'on-hold'],
    ['completed', 'completed'],
    ['cancelled', 'cancelled'],
    ['odd', 'in-progress'],
  ])('maps enrollment status %s to %s', (status, expected) => {
    expect(toTask({ id: 'e', patient_id: P, status, sequence: 'recall', step: 's', enrolled_at: T }).status).toBe(expected);
  });

  it('maps the computed scores and the opportunity to Observations with components, leaving out the absent ones', () => {
    const scores = toScores({ patient_id: P, status: 'active', risk_score: 12, lifetime_value: 100, computed_at: T }, ctx);
    expect(scores.id).toBe(`${P}-scores`);
    const codes = scores.component?.map((c) => c.code.coding?.[0].code);
    expect(codes).toEqual(expect.arrayContaining(['status', 'risk-score', 'lifetime-value', 'risk-factors']));
    expect(codes).not.toContain('engagement-score');
    expect(scores.component?.find((c) => c.code.coding?.[0].code === 'lifetime-value')?.valueQuantity).toEqual({
      value: 100,
      unit: 'EUR',
      system: 'urn:iso:std:iso:4217',
      code: 'EUR',
    });
    const opportunity = toOpportunity({ patient_id: P, opportunity_type: 'inactive_patient', estimated_value: 10, computed_at: T }, ctx);
    expect(opportunity.component?.map((c) => c.code.coding?.[0].code)).toEqual(['opportunity-type', 'estimated-value', 'expected-return']);
  });

  it('maps every kind to the resource types its table row declares', () => {
    const rows: Record<keyof typeof KIND_RESOURCE_TYPES, Record<string, unknown>> = {
      patients: fullPatient,
      appointments: { id: 'a', patient_id: P, status: 'completed', starts_at: T },
      payments: { id: 'p', patient_id: P, kind: 'charge', status: 'paid', amount: 1, occurred_at: T },
      communications: { id: 'c', patient_id: P, direction: 'inbound', channel: 'sms', kind: 'message', occurred_at: T },
      survey_responses: { id: 's', patient_id: P, complaint: false },
      treatment_plans: { id: 't', patient_id: P, status: 'active', started_at: T },
      referrals: { id: 'r', referrer_patient_id: P, referred_patient_id: P, referred_at: T },
      journey_events: { id: 'j', patient_id: P, stage: 'inquiry', occurred_at: T, details: { a: 1 } },
      automation_enrollments: { id: 'e', patient_id: P, status: 'active', enrolled_at: T },
      scores: { patient_id: P, computed_at: T },
      risk_history: { patient_id: P, recorded_on: '2026-01-01', risk_score: 3 },
      opportunities: { patient_id: P, computed_at: T },
    };
    let kinds = 0;
    for (const [kind, row] of Object.entries(rows) as [keyof typeof KIND_RESOURCE_TYPES, Record<string, unknown>][]) {
      const types = toFhirResources(kind, row, ctx).map((r) => r.resourceType);
      expect(types.every((t) => (KIND_RESOURCE_TYPES[kind] as readonly string[]).includes(t))).toBe(true);
      kinds++;
    }
    expect(kinds).toBe(Object.keys(KIND_RESOURCE_TYPES).length);
    expect(EXPORT_RESOURCE_TYPES).toHaveLength(14);
    expect(toFhirResources('journey_events', { id: 'j', patient_id: P, details: null }, ctx)[0]).not.toHaveProperty('extension');
  });

  it("maps a referral whose referred patient was erased without a subject (the referrer's referral, kept without them)", () => {
    const [basic] = toFhirResources('referrals', { id: 'r', referrer_patient_id: P, referred_patient_id: null, referred_at: T }, ctx);
    expect(basic).not.toHaveProperty('subject');
    expect(basic).toMatchObject({ resourceType: 'Basic', author: { reference: `Patient/${P}` } });
  });
});
