import type { Resource } from '@medplum/fhirtypes';
import { CONSENT_CHANNEL_SYSTEM, CONSENT_PURPOSE_SYSTEM, Mapped, mapResource } from 'src/fhir-import/domain/fhir-mapping';
import { validateRecord } from 'src/ingestion/validation/record-validators';

/** One test group per mapped type: the values, dates and references read, and what a missing element gives. */
const map = (r: Record<string, unknown>): Mapped => mapResource(r as unknown as Resource, 'ehr');
const NOW = Date.parse('2026-12-01T00:00:00Z');

/** The record a mapping gives, checked to be one the ingestion accepts as it is. */
function accepted(m: Mapped): Record<string, unknown> {
  if (m.kind !== 'record' && m.kind !== 'patient') throw new Error(`expected a record, got ${m.kind}`);
  const v = validateRecord(m.record, NOW);
  expect(v.ok ? [] : v.errors).toEqual([]);
  return m.record;
}

const expressionsOf = (m: Mapped): string[] => (m.kind === 'invalid' ? m.issues.flatMap((i) => i.expression ?? []) : []);

describe('FHIR mapping per resource type', () => {
  describe('Patient', () => {
    it('maps name text, contacts by rank, the home address and a full birth date', () => {
      const r = accepted(
        map({
          resourceType: 'Patient',
          id: 'p1',
          name: [{ use: 'usual', text: ' Jo Doe ' }],
          telecom: [
            { system: 'phone', value: '+1 555 0100', rank: 2 },
            { system: 'phone', value: '+1 555 0199', rank: 1 },
            { system: 'email', value: 'jo@example.org' },
          ],
          birthDate: '1990-07-04',
          address: [
            { use: 'home', line: ['5 Elm St'], city: 'Springfield', state: 'IL', postalCode: '62701', period: { end: '2020-01-01' } },
          ],
        }),
      );
      expect(r).toEqual({
        record_type: 'patient',
        source: 'ehr',
        external_id: 'p1',
        name: 'Jo Doe',
        phone: '+1 555 0199',
        email: 'jo@example.org',
        date_of_birth: '1990-07-04',
        // The only address, though ended: the first one is the fallback.
        address: { street: '5 Elm St', city: 'Springfield', state: 'IL', zip: '62701' },
        preferred_channel: 'phone',
      });
    });

    it('defaults what is missing to null and rejects a patient without a name', () => {
      expect(accepted(map({ resourceType: 'Patient', id: 'p2', name: [{ family: 'Roe' }] }))).toEqual({
        record_type: 'patient',
        source: 'ehr',
        external_id: 'p2',
        name: 'Roe',
        phone: null,
        email: null,
        date_of_birth: null,
        address: null,
      });
      const bad = map({ resourceType: 'Patient', id: 'p3', gender: 'female' });
      expect(bad.kind).toBe('invalid');
      expect(expressionsOf(bad)).toEqual(['Patient.name']);
    });
  });

  describe('Encounter', () => {
    it('reads period.start (a date as UTC midnight), the type text and the subject', () => {
      const m = map({
        resourceType: 'Encounter',
        id: 'e1',
        status: 'cancelled',
        class: { code: 'AMB' },
        type: [{ coding: [{ system: 'http://snomed.info/sct', code: '185349003', display: 'Check up' }] }],
        subject: { reference: 'https://ehr.example/fhir/Patient/p1/_history/3' },
        period: { start: '2024-03-05' },
      });
      expect(m).toMatchObject({ kind: 'record', patientRef: 'p1' });
      expect(accepted(m)).toEqual({
        record_type: 'appointment',
        source: 'ehr',
        external_id: 'Encounter/e1',
        patient_external_id: 'p1',
        starts_at: '2024-03-05T00:00:00Z',
        type: 'Check up',
        status: 'cancelled',
      });
    });

    it('falls back to serviceType then class for the type, and names a missing start or subject', () => {
      const base = { resourceType: 'Encounter', id: 'e2', status: 'in-progress', class: { code: 'EMER', display: 'emergency' } };
      expect(map({ ...base, subject: { reference: 'Patient/p1' }, period: { start: '2024-03-05T10:00:00+01:00' } })).toMatchObject({
        record: { type: 'emergency', status: 'scheduled', starts_at: '2024-03-05T10:00:00+01:00' },
      });
      expect(expressionsOf(map({ ...base, subject: { reference: 'Patient/p1' } }))).toEqual(['Encounter.period.start']);
      expect(expressionsOf(map({ ...base, subject: { reference: 'Group/g1' }, period: { start: '2024-03-05' } }))).toEqual([
        'Encounter.subject',
      ]);
    });
  });

  describe('Appointment', () => {
    it('takes the Patient participant, the start, the appointment type and the status', () => {
      const m = map({
        resourceType: 'Appointment',
        id: 'a1',
        status: 'booked',
        start: '2025-01-10T09:30:00Z',
        serviceType: [{ text: 'Physio follow-up' }],
        participant: [
          { actor: { reference: 'Practitioner/d1' }, status: 'accepted' },
          { actor: { reference: 'Patient/p7' }, status: 'accepted' },
        ],
      });
      expect(accepted(m)).toEqual({
        record_type: 'appointment',
        source: 'ehr',
        external_id: 'Appointment/a1',
        patient_external_id: 'p7',
        starts_at: '2025-01-10T09:30:00Z',
        type: 'Physio follow-up',
        status: 'scheduled',
      });
      expect(m.kind === 'record' && m.elements.patient_external_id).toBe('Appointment.participant[1].actor');
    });

    it('defaults the type to "Appointment" and names a missing start', () => {
      const base = { resourceType: 'Appointment', id: 'a2', status: 'fulfilled', participant: [{ actor: { reference: 'Patient/p7' } }] };
      expect(map({ ...base, start: '2025-01-10T09:30:00Z' })).toMatchObject({ record: { type: 'Appointment', status: 'completed' } });
      expect(expressionsOf(map(base))).toEqual(['Appointment.start']);
    });
  });

  describe('medical lists', () => {
    it('puts an active allergy on the list and a refuted or resolved one off it', () => {
      const allergy = (clinical: string, verification = 'confirmed'): Mapped =>
        map({
          resourceType: 'AllergyIntolerance',
          id: 'al',
          clinicalStatus: { coding: [{ code: clinical }] },
          verificationStatus: { coding: [{ code: verification }] },
          code: { coding: [{ display: 'Peanut' }] },
          patient: { reference: 'Patient/p1' },
        });
      expect([allergy('active'), allergy('resolved'), allergy('active', 'refuted')]).toEqual([
        { kind: 'list-item', patientRef: 'p1', list: 'allergies', item: 'Peanut' },
        { kind: 'list-item', patientRef: 'p1', list: 'allergies', item: null },
        { kind: 'list-item', patientRef: 'p1', list: 'allergies', item: null },
      ]);
      expect(expressionsOf(map({ resourceType: 'AllergyIntolerance', id: 'al', patient: { reference: 'Patient/p1' } }))).toEqual([
        'AllergyIntolerance.code',
      ]);
    });

    it('reads a medication statement (intended counts) and names a missing medication or subject', () => {
      const st = (status: string): Mapped =>
        map({
          resourceType: 'MedicationStatement',
          id: 'ms',
          status,
          medicationReference: { reference: 'Medication/m1', display: 'Ibuprofen 200 mg' },
          subject: { reference: 'Patient/p1' },
        });
      expect([st('intended'), st('stopped')]).toEqual([
        { kind: 'list-item', patientRef: 'p1', list: 'medications', item: 'Ibuprofen 200 mg' },
        { kind: 'list-item', patientRef: 'p1', list: 'medications', item: null },
      ]);
      expect(
        expressionsOf(map({ resourceType: 'MedicationRequest', id: 'mr', status: 'active', subject: { reference: 'Patient/p1' } })),
      ).toEqual(['MedicationRequest.medication[x]']);
      expect(
        expressionsOf(map({ resourceType: 'Condition', id: 'c', code: { text: 'Asthma' }, subject: { reference: 'Group/1' } })),
      ).toEqual(['Condition.subject']);
    });
  });

  describe('Claim, ExplanationOfBenefit, Invoice', () => {
    it('sums item net amounts when a Claim has no total and takes created when there is no billable period', () => {
      const m = map({
        resourceType: 'Claim',
        id: 'c1',
        status: 'cancelled',
        patient: { reference: 'Patient/p1' },
        created: '2024-02-01',
        item: [{ net: { value: 10.1 } }, { net: { value: 5.25 } }],
      });
      expect(accepted(m)).toMatchObject({
        external_id: 'Claim/c1',
        amount: 15.35,
        occurred_at: '2024-02-01T00:00:00Z',
        kind: 'charge',
        status: 'failed',
      });
      expect(expressionsOf(map({ resourceType: 'Claim', id: 'c2', status: 'active', patient: { reference: 'Patient/p1' } }))).toEqual([
        'Claim.total',
      ]);
    });

    it('keys an EOB without a claim by itself, reads the benefit total and its outcome', () => {
      const m = map({
        resourceType: 'ExplanationOfBenefit',
        id: 'b1',
        status: 'active',
        outcome: 'queued',
        patient: { reference: 'Patient/p1' },
        created: '2024-02-03T12:00:00Z',
        total: [
          { category: { coding: [{ code: 'submitted' }] }, amount: { value: 100 } },
          { category: { coding: [{ code: 'benefit' }] }, amount: { value: 80 } },
        ],
      });
      expect(m).toMatchObject({ settles: 'ExplanationOfBenefit/b1' });
      expect(accepted(m)).toMatchObject({ external_id: 'ExplanationOfBenefit/b1', amount: 80, status: 'pending', kind: 'payment' });
      expect(
        expressionsOf(map({ resourceType: 'ExplanationOfBenefit', id: 'b2', status: 'active', patient: { reference: 'Patient/p1' } })),
      ).toEqual(['ExplanationOfBenefit.payment.amount']);
    });

    it('maps an Invoice by status, skips a draft and names a missing date', () => {
      const inv = (status: string, extra: Record<string, unknown> = { date: '2024-04-01' }): Mapped =>
        map({ resourceType: 'Invoice', id: 'i1', status, recipient: { reference: 'Patient/p3' }, totalNet: { value: 42 }, ...extra });
      expect(accepted(inv('balanced'))).toMatchObject({
        external_id: 'Invoice/i1',
        patient_external_id: 'p3',
        amount: 42,
        status: 'paid',
        occurred_at: '2024-04-01T00:00:00Z',
      });
      expect(inv('draft')).toEqual({ kind: 'skipped', reason: 'a draft Invoice is not a payment yet' });
      expect(expressionsOf(inv('issued', {}))).toEqual(['Invoice.date']);
    });
  });

  describe('CarePlan, Communication, QuestionnaireResponse', () => {
    it('counts planned and completed activities and maps the status and period', () => {
      const m = map({
        resourceType: 'CarePlan',
        id: 'cp',
        status: 'revoked',
        intent: 'plan',
        category: [{ text: 'Knee rehab' }],
        subject: { reference: 'Patient/p1' },
        period: { start: '2024-01-01', end: '2024-03-01' },
        activity: [{ detail: { status: 'completed' } }, { detail: { status: 'scheduled' } }, { detail: { status: 'completed' } }],
      });
      expect(accepted(m)).toEqual({
        record_type: 'treatment_plan',
        source: 'ehr',
        external_id: 'CarePlan/cp',
        patient_external_id: 'p1',
        name: 'Knee rehab',
        planned_sessions: 3,
        completed_sessions: 2,
        status: 'abandoned',
        started_at: '2024-01-01T00:00:00Z',
        ends_at: '2024-03-01T00:00:00Z',
      });
      expect(
        expressionsOf(map({ resourceType: 'CarePlan', id: 'cp2', status: 'active', intent: 'plan', subject: { reference: 'Patient/p1' } })),
      ).toEqual(['CarePlan.period.start']);
    });

    it('reads the medium, the direction from the sender and defaults the channel to email', () => {
      const sms = map({
        resourceType: 'Communication',
        id: 'm1',
        status: 'completed',
        subject: { reference: 'Patient/p1' },
        sender: { reference: 'Patient/p1' },
        received: '2024-06-01T08:00:00Z',
        medium: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationMode', code: 'SMSWRIT' }] }],
      });
      expect(accepted(sms)).toMatchObject({ channel: 'sms', kind: 'message', direction: 'inbound', occurred_at: '2024-06-01T08:00:00Z' });
      const plain = map({
        resourceType: 'Communication',
        id: 'm2',
        status: 'completed',
        subject: { reference: 'Patient/p1' },
        sent: '2024-06-02',
      });
      expect(accepted(plain)).toMatchObject({
        channel: 'email',
        kind: 'email',
        direction: 'outbound',
        occurred_at: '2024-06-02T00:00:00Z',
      });
      expect(
        expressionsOf(map({ resourceType: 'Communication', id: 'm3', status: 'completed', subject: { reference: 'Patient/p1' } })),
      ).toEqual(['Communication.sent']);
    });

    it('reads nested satisfaction items as codes and names a missing authored date', () => {
      const q = (extra: Record<string, unknown>): Mapped =>
        map({
          resourceType: 'QuestionnaireResponse',
          id: 'q1',
          status: 'completed',
          source: { reference: 'Patient/p4' },
          item: [{ linkId: 'g', item: [{ linkId: 'overall', text: 'How satisfied were you?', answer: [{ valueCoding: { code: '5' } }] }] }],
          ...extra,
        });
      expect(accepted(q({ authored: '2024-07-01T10:00:00Z' }))).toMatchObject({
        patient_external_id: 'p4',
        satisfaction: 5,
        nps: null,
        submitted_at: '2024-07-01T10:00:00Z',
      });
      expect(expressionsOf(q({}))).toEqual(['QuestionnaireResponse.authored']);
    });
  });

  describe('Consent', () => {
    const consent = (extra: Record<string, unknown>): Mapped =>
      map({
        resourceType: 'Consent',
        id: 'k1',
        status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
        category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
        patient: { reference: 'Patient/p1' },
        dateTime: '2024-05-10T09:00:00Z',
        ...extra,
      });

    it('maps an active permit to a granted decision with its date, expiry, performer and evidence', () => {
      const m = consent({
        provision: {
          type: 'permit',
          period: { start: '2024-05-10', end: '2025-05-10' },
          purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HMARKT' }],
        },
        category: [{ coding: [{ system: CONSENT_CHANNEL_SYSTEM, code: 'sms' }] }],
        performer: [{ reference: 'Practitioner/d1', display: 'Dr. Who' }],
        sourceAttachment: { title: 'Signed marketing form' },
      });
      expect(m).toMatchObject({ kind: 'record', patientRef: 'p1' });
      expect(accepted(m)).toEqual({
        record_type: 'consent',
        source: 'ehr',
        external_id: 'Consent/k1',
        patient_external_id: 'p1',
        purpose: 'marketing',
        channel: 'sms',
        decision: 'granted',
        recorded_at: '2024-05-10T09:00:00Z',
        consent_source: 'ehr_import',
        recorded_by: 'Practitioner/d1',
        expires_at: '2025-05-10T00:00:00Z',
        evidence: 'Signed marketing form',
      });
    });

    it('maps deny, rejected and inactive to denied, denied and withdrawn', () => {
      const decision = (extra: Record<string, unknown>): unknown => {
        const m = consent(extra);
        return m.kind === 'record' ? m.record.decision : m.kind;
      };
      expect([
        decision({ provision: { type: 'deny' } }),
        decision({ status: 'rejected' }),
        decision({ status: 'inactive' }),
        decision({}),
      ]).toEqual(['denied', 'denied', 'withdrawn', 'granted']);
    });

    it('finds the purpose in our code system, an ActReason, the research scope, the words, else privacy → data sharing', () => {
      const purpose = (extra: Record<string, unknown>): unknown => {
        const m = consent(extra);
        return m.kind === 'record' ? m.record.purpose : m.kind;
      };
      expect([
        purpose({ category: [{ coding: [{ system: CONSENT_PURPOSE_SYSTEM, code: 'appointment_reminders' }] }] }),
        purpose({ provision: { purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HRESCH' }] } }),
        purpose({ provision: { purpose: [{ code: 'HQUALIMP' }] } }),
        purpose({ scope: { coding: [{ code: 'research' }] } }),
        purpose({ category: [{ text: 'Appointment reminder consent' }] }),
        purpose({ category: [{ coding: [{ code: 'local-9', display: 'Newsletter and promotions' }] }] }),
        purpose({}),
      ]).toEqual(['appointment_reminders', 'research', 'analytics', 'research', 'appointment_reminders', 'marketing', 'data_sharing']);
    });

    it('leaves the channel out (every channel) for a purpose that contacts no one, and defaults dates to null', () => {
      const m = consent({
        dateTime: undefined,
        category: [
          {
            coding: [
              { system: CONSENT_PURPOSE_SYSTEM, code: 'research' },
              { system: CONSENT_CHANNEL_SYSTEM, code: 'sms' },
            ],
          },
        ],
      });
      expect(accepted(m)).toMatchObject({ purpose: 'research', channel: null, recorded_at: null, expires_at: null, evidence: null });
      expect(m.kind === 'record' && 'recorded_by' in m.record).toBe(false);
    });

    it('skips drafts, entered-in-error and treatment or advance-directive consents; names a missing patient', () => {
      expect(consent({ status: 'proposed' })).toEqual({ kind: 'skipped', reason: 'a proposed Consent is not a decision' });
      expect(consent({ status: 'entered-in-error' }).kind).toBe('skipped');
      expect(consent({ scope: { coding: [{ code: 'treatment' }] } })).toEqual({
        kind: 'skipped',
        reason: 'a Consent about treatment or an advance directive is not a decision the app keeps',
      });
      expect(expressionsOf(consent({ patient: undefined }))).toEqual(['Consent.patient']);
    });
  });
});
