import type { Resource } from '@medplum/fhirtypes';
import { instantOf, mapResource } from 'src/fhir-import/domain/fhir-mapping';
import { logicalRefOf, patientRefOf, rewriteReferences } from 'src/fhir-import/domain/references';

const map = (r: Record<string, unknown>): ReturnType<typeof mapResource> => mapResource(r as unknown as Resource, 'ehr');

describe('FHIR mapping (pure)', () => {
  it('takes the official name, live contacts, full birth dates only and the home address', () => {
    const m = map({
      resourceType: 'Patient',
      id: 'p1',
      name: [
        { use: 'maiden', family: 'Old', given: ['Ann'] },
        { use: 'official', family: 'New', given: ['Ann', 'B'] },
      ],
      telecom: [
        { system: 'phone', value: '555-1', period: { end: '2020-01-01' } },
        { system: 'phone', value: '555-2' },
        { system: 'email', value: 'a@b.c', rank: 1 },
      ],
      birthDate: '1984-03',
      address: [
        { use: 'work', city: 'W' },
        { use: 'home', line: ['1 A St', 'Apt 2'], city: 'C', state: 'S', postalCode: 'Z' },
      ],
    });
    expect(m).toMatchObject({
      kind: 'patient',
      record: {
        external_id: 'p1',
        name: 'Ann B New',
        phone: '555-2',
        email: 'a@b.c',
        date_of_birth: null,
        preferred_channel: 'email',
        address: { street: '1 A St, Apt 2', city: 'C', state: 'S', zip: 'Z' },
      },
    });
  });

  it('maps encounter and appointment statuses and keys records by Type/id', () => {
    const enc = map({
      resourceType: 'Encounter',
      id: 'e1',
      status: 'finished',
      class: { code: 'AMB' },
      subject: { reference: 'Patient/p1' },
      period: { start: '2024-01-02' },
    });
    expect(enc).toMatchObject({
      kind: 'record',
      patientRef: 'p1',
      record: { external_id: 'Encounter/e1', status: 'completed', starts_at: '2024-01-02T00:00:00Z', type: 'AMB' },
    });
    const apt = map({
      resourceType: 'Appointment',
      id: 'a1',
      status: 'noshow',
      start: '2024-01-02T10:00:00Z',
      participant: [
        { actor: { reference: 'Practitioner/x' }, status: 'accepted' },
        { actor: { reference: 'Patient/p2' }, status: 'accepted' },
      ],
    });
    expect(apt).toMatchObject({
      kind: 'record',
      patientRef: 'p2',
      record: { status: 'no_show' },
      elements: { patient_external_id: 'Appointment.participant[1].actor' },
    });
  });

  it('puts only active conditions and medications on the lists', () => {
    const cond = (code: string): ReturnType<typeof mapResource> =>
      map({
        resourceType: 'Condition',
        id: 'c',
        subject: { reference: 'Patient/p1' },
        clinicalStatus: { coding: [{ code }] },
        code: { text: 'Asthma' },
      });
    expect([cond('active'), cond('resolved')]).toEqual([
      { kind: 'list-item', patientRef: 'p1', list: 'conditions', item: 'Asthma' },
      { kind: 'list-item', patientRef: 'p1', list: 'conditions', item: null },
    ]);
    expect(
      map({
        resourceType: 'MedicationRequest',
        id: 'm',
        status: 'stopped',
        intent: 'order',
        subject: { reference: 'Patient/p1' },
        medicationCodeableConcept: { text: 'X' },
      }),
    ).toMatchObject({ item: null });
  });

  it('keys an EOB by its Claim (the EOB settles it) and a Claim alone as a pending charge', () => {
    const eob = map({
      resourceType: 'ExplanationOfBenefit',
      id: 'b',
      patient: { reference: 'Patient/p1' },
      claim: { reference: 'Claim/c9' },
      outcome: 'complete',
      payment: { amount: { value: 12.345 } },
      created: '2024-02-01',
    });
    expect(eob).toMatchObject({
      kind: 'record',
      settles: 'Claim/c9',
      record: { external_id: 'Claim/c9', kind: 'payment', status: 'paid', amount: 12.35 },
    });
    const claim = map({
      resourceType: 'Claim',
      id: 'c9',
      status: 'active',
      patient: { reference: 'Patient/p1' },
      created: '2024-01-01',
      item: [{ net: { value: 10 } }, { net: { value: 5.5 } }],
    });
    expect(claim).toMatchObject({ kind: 'record', record: { external_id: 'Claim/c9', kind: 'charge', status: 'pending', amount: 15.5 } });
  });

  it('reads satisfaction and NPS items, skips other questionnaires and unmapped types, rejects a missing patient', () => {
    const q = map({
      resourceType: 'QuestionnaireResponse',
      id: 'q',
      status: 'completed',
      subject: { reference: 'Patient/p1' },
      authored: '2024-03-01T10:00:00Z',
      item: [
        { linkId: 'overall-satisfaction', answer: [{ valueInteger: 4 }] },
        { linkId: 'g', item: [{ linkId: 'nps', answer: [{ valueCoding: { code: '9' } }] }] },
      ],
    });
    expect(q).toMatchObject({ kind: 'record', record: { satisfaction: 4, nps: 9 } });
    expect(
      map({
        resourceType: 'QuestionnaireResponse',
        id: 'q2',
        status: 'completed',
        item: [{ linkId: 'pain', answer: [{ valueInteger: 3 }] }],
      }).kind,
    ).toBe('skipped');
    expect(map({ resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' } })).toEqual({
      kind: 'skipped',
      reason: 'Observation is not imported',
    });
    expect(
      map({ resourceType: 'Encounter', id: 'e', status: 'finished', class: { code: 'AMB' }, period: { start: '2024-01-01' } }),
    ).toMatchObject({ kind: 'invalid', issues: [{ expression: ['Encounter.subject'] }] });
  });

  it('turns FHIR dates into UTC instants and rewrites urn:uuid references anywhere', () => {
    expect([instantOf('2024'), instantOf('2024-05'), instantOf('2024-05-10'), instantOf('2024-05-10T09:00:00+02:00')]).toEqual([
      '2024-01-01T00:00:00Z',
      '2024-05-01T00:00:00Z',
      '2024-05-10T00:00:00Z',
      '2024-05-10T09:00:00+02:00',
    ]);
    const map2 = new Map([['urn:uuid:1', 'Patient/p1']]);
    expect(
      rewriteReferences(
        {
          subject: { reference: 'urn:uuid:1' },
          participant: [{ actor: { reference: 'urn:uuid:1' } }, { actor: { reference: 'urn:uuid:2' } }],
        },
        map2,
      ),
    ).toEqual({
      subject: { reference: 'Patient/p1' },
      participant: [{ actor: { reference: 'Patient/p1' } }, { actor: { reference: 'urn:uuid:2' } }],
    });
  });
});

describe('FHIR mapping: identifiers and logical references', () => {
  it("keeps a Patient's identifiers that have a value, once each (no system: '')", () => {
    const m = map({
      resourceType: 'Patient',
      id: 'p1',
      name: [{ family: 'A' }],
      identifier: [
        { system: 'urn:mrn', value: 'M1' },
        { system: 'urn:mrn', value: 'M1' },
        { value: 'L2' },
        { system: 'urn:ssn' },
      ],
    });
    expect(m).toMatchObject({
      kind: 'patient',
      identifiers: [
        { system: 'urn:mrn', value: 'M1' },
        { system: '', value: 'L2' },
      ],
    });
  });

  it('turns a reference by identifier into a stand-in the import resolves; typed elements need type Patient', () => {
    const enc = map({
      resourceType: 'Encounter',
      id: 'e1',
      status: 'finished',
      class: { code: 'AMB' },
      subject: { identifier: { system: 'urn:mrn', value: 'M1' } },
      period: { start: '2024-01-02' },
    });
    expect(enc.kind).toBe('record');
    const ref = (enc as { patientRef: string }).patientRef;
    expect(logicalRefOf(ref)).toEqual({ system: 'urn:mrn', value: 'M1' });
    expect(logicalRefOf('p1')).toBeNull();
    expect(patientRefOf({ reference: 'Patient/p9', identifier: { system: 'x', value: 'y' } })).toBe('p9');
    expect(patientRefOf({ type: 'Group', identifier: { system: 'x', value: 'y' } })).toBeNull();
    expect(patientRefOf({ identifier: { system: 'x', value: 'y' } }, true)).toBeNull();
    expect(logicalRefOf(patientRefOf({ type: 'Patient', identifier: { value: 'y' } }, true) as string)).toEqual({ system: '', value: 'y' });
    const apt = map({
      resourceType: 'Appointment',
      id: 'a1',
      status: 'booked',
      start: '2024-01-02T10:00:00Z',
      end: '2024-01-02T10:30:00Z',
      participant: [
        { actor: { identifier: { system: 'urn:npi', value: 'N1' } }, status: 'accepted' },
        { actor: { type: 'Patient', identifier: { system: 'urn:mrn', value: 'M1' } }, status: 'accepted' },
      ],
    });
    expect(logicalRefOf((apt as { patientRef: string }).patientRef)).toEqual({ system: 'urn:mrn', value: 'M1' });
  });
});
