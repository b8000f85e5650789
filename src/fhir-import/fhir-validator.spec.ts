import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { invariantsHold, schemaValidator } from 'src/fhir-import/fhir-schema';
import { validateFhirResource } from 'src/fhir-import/fhir-validator';
import { bulkFile, claimsFile, type Json, resources } from 'test/fhir-import/fhir-fixtures';

/** Medplum's own verdict (the rule): its error issues. */
function medplum(value: Json): OperationOutcomeIssue[] {
  try {
    return validateResource(value as Resource).filter((i) => i.severity === 'error');
  } catch (err) {
    if (err instanceof OperationOutcomeError) return (err.outcome.issue ?? []).filter((i) => i.severity === 'error');
    throw err;
  }
}

/** Whether the fast path (schema + invariants) accepts: it must never accept what Medplum rejects. */
const fast = (value: Json): boolean =>
  !!schemaValidator(value.resourceType as string)?.(value) && invariantsHold(value as { resourceType: string });

const text = (issues: OperationOutcomeIssue[]): string[] => issues.map((i) => `${i.expression?.[0] ?? ''}: ${i.details?.text ?? ''}`);

const patient: Json = {
  resourceType: 'Patient',
  id: 'p1',
  name: [{ use: 'official', family: 'Lee', given: ['Ada'] }],
  birthDate: '1984-02-29',
  extension: [{ url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex', valueCode: 'F' }],
};
const encounter: Json = {
  resourceType: 'Encounter',
  id: 'e1',
  status: 'finished',
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
  subject: { reference: 'Patient/p1' },
  period: { start: '2024-05-10T09:00:00+02:00', end: '2024-05-10T09:30:00+02:00' },
};
const condition: Json = {
  resourceType: 'Condition',
  id: 'c1',
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  code: { text: 'Asthma' },
  subject: { reference: 'Patient/p1' },
};
const claim: Json = {
  resourceType: 'Claim',
  id: 'k1',
  status: 'active',
  type: { text: 'professional' },
  use: 'claim',
  patient: { reference: 'Patient/p1' },
  created: '2024-05-10',
  provider: { display: 'Clinic' },
  priority: { text: 'normal' },
  insurance: [{ sequence: 1, focal: true, coverage: { display: 'Self pay' } }],
};
const medication: Json = {
  resourceType: 'MedicationRequest',
  id: 'm1',
  status: 'active',
  intent: 'order',
  medicationCodeableConcept: { text: 'Salbutamol' },
  subject: { reference: 'Patient/p1' },
  dosageInstruction: [{ timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } } }],
};

/**
 * Where the FHIR R4 JSON schema is looser than Medplum's validator, and the tightening or the invariant that keeps the
 * fast path from accepting (each was accepted by the official schema as shipped). Every case: Medplum's message.
 */
const rejected: [string, Json, string][] = [
  ['a bad date', { ...patient, birthDate: '1984-13-40' }, 'Patient.birthDate: Invalid date format'],
  ['a control character in a string', { ...patient, name: [{ family: 'Lee\u0001' }] }, 'Patient.name[0].family: Invalid string format'],
  ['a tab inside a code', { ...encounter, status: 'fin\tished' }, 'Encounter.status: Invalid code format'],
  [
    'a blank string',
    { ...encounter, serviceType: { text: '   ' } },
    'Encounter.serviceType.text: String must contain non-whitespace content',
  ],
  ['a blank uri', { ...claim, implicitRules: ' ' }, 'Claim.implicitRules: String must contain non-whitespace content'],
  [
    'a dateTime with 10 fraction digits',
    { ...encounter, period: { start: '2024-05-10T09:00:00.1234567890Z' } },
    'Encounter.period.start: Invalid dateTime format',
  ],
  [
    'a string over 1 MB',
    { ...claim, provider: { display: 'x'.repeat(1024 * 1024 + 1) } },
    'Claim.provider.display: String cannot be larger than 1 MB',
  ],
  [
    'a positiveInt with a fraction',
    { ...claim, insurance: [{ sequence: 1.5, focal: true, coverage: { display: 'x' } }] },
    'Claim.insurance[0].sequence: Expected number to be an integer',
  ],
  [
    'a positiveInt of 0',
    { ...claim, insurance: [{ sequence: 0, focal: true, coverage: { display: 'x' } }] },
    'Claim.insurance[0].sequence: Expected number to be positive',
  ],
  [
    'an xhtml that is not a string',
    { ...claim, text: { status: 'generated', div: 5 } },
    'Claim.text.div: Invalid JSON type: expected string, but got number',
  ],
  ['a required primitive missing', { ...claim, created: undefined }, 'Claim.created: Missing required property'],
  ['a required primitive empty', { ...claim, use: '' }, 'Claim.use: Missing required property'],
  ['a required array empty', { ...claim, insurance: [] }, 'Claim.insurance: Missing required property'],
  [
    'a required choice missing',
    { ...medication, medicationCodeableConcept: undefined },
    'MedicationRequest.medication[x]: Missing required property',
  ],
  ['an extension without url', { ...patient, extension: [{ valueCode: 'F' }] }, 'Patient.extension[0].url: Missing required property'],
  [
    'ext-1: an extension with a value and extensions',
    { ...patient, extension: [{ url: 'http://x', valueCode: 'F', extension: [{ url: 'http://y', valueString: 'z' }] }] },
    'Patient.extension[0]: Constraint ext-1 not met: Must have either extensions or value[x], not both',
  ],
  [
    'ext-1: an extension in a primitive element',
    { ...patient, _birthDate: { extension: [{ url: 'http://x' }] } },
    'Patient.birthDate.extension[0]: Constraint ext-1 not met: Must have either extensions or value[x], not both',
  ],
  [
    'con-4: an abated condition still active',
    { ...condition, abatementDateTime: '2024-01-01' },
    'Condition: Constraint con-4 not met: If condition is abated, then clinicalStatus must be either inactive, resolved, or remission',
  ],
  [
    'pat-1: a contact with no details',
    { ...patient, contact: [{ gender: 'female' }] },
    "Patient.contact[0]: Constraint pat-1 not met: SHALL at least contain a contact's details or a reference to an organization",
  ],
  [
    'tim-1: a timing duration without unit',
    { ...medication, dosageInstruction: [{ timing: { repeat: { duration: 2 } } }] },
    "MedicationRequest.dosageInstruction[0].timing.repeat: Constraint tim-1 not met: if there's a duration, there needs to be duration units",
  ],
  [
    'qrs-1: an item with answers and items',
    {
      resourceType: 'QuestionnaireResponse',
      id: 'q1',
      status: 'completed',
      item: [{ linkId: 'a', answer: [{ valueInteger: 5 }], item: [{ linkId: 'b' }] }],
    },
    "QuestionnaireResponse.item[0]: Constraint qrs-1 not met: Nested item can't be beneath both item and answer",
  ],
  [
    'Reference.resource (in the schema, not in FHIR R4)',
    { ...encounter, subject: { reference: 'Patient/p1', resource: {} } },
    'Encounter.subject.resource: Invalid additional property "resource"',
  ],
  [
    'a contained resource that is invalid',
    { ...claim, contained: [{ resourceType: 'Coverage', id: 'cv', status: 'active', payor: [{ display: 'x' }] }] },
    'Claim.contained[0].beneficiary: Missing required property',
  ],
  ['an unknown element', { ...encounter, colour: 'blue' }, 'Encounter.colour: Invalid additional property "colour"'],
  // The schema's definitions say neither `type: object` nor "not empty" (found by the seeded mutations below).
  ['an empty object in an array', { ...condition, category: [{}] }, 'Condition.category[0]: Invalid empty non-primitive value'],
  ['a required element empty', { ...condition, subject: {} }, 'Condition.subject: Missing required property'],
  ['null for an element', { ...condition, meta: null }, 'Condition.meta: Invalid null value'],
  ['an array for a single element', { ...encounter, serviceType: ['x'] }, 'Encounter.serviceType: Expected single value for property'],
];

/** Where the schema is stricter than Medplum: the fast path refuses, Medplum accepts, so the resource is valid. */
const accepted: [string, Json][] = [
  ['a status outside the required value set (Medplum checks no bindings)', { ...encounter, status: 'weird' }],
  ['an empty optional string', { ...claim, implicitRules: '' }],
  [
    'a valid contained resource',
    {
      ...claim,
      contained: [
        { resourceType: 'Coverage', id: 'cv', status: 'active', beneficiary: { reference: 'Patient/p1' }, payor: [{ display: 'x' }] },
      ],
      insurance: [{ sequence: 1, focal: true, coverage: { reference: '#cv' } }],
    },
  ],
];

describe('validateFhirResource: the FHIR R4 JSON schema (ajv) first, Medplum for the rest', () => {
  it.each(rejected)("rejects %s with Medplum's message, and the fast path does not accept it", (_, value, message) => {
    expect(fast(value)).toBe(false);
    const issues = validateFhirResource(value);
    expect(text(issues)).toContain(message);
    expect(issues).toEqual(medplum(value));
  });

  it.each(accepted)('accepts %s as Medplum does (the schema refused it)', (_, value) => {
    expect(fast(value)).toBe(false);
    expect(medplum(value)).toEqual([]);
    expect(validateFhirResource(value)).toEqual([]);
  });

  it('accepts on the fast path every resource of the 13-patient Synthea export and the claims fixture, as Medplum does', () => {
    const all = [
      ...['Patient', 'Condition', 'AllergyIntolerance', 'Encounter', 'MedicationRequest'].flatMap((t) => resources(bulkFile(t))),
      ...resources(claimsFile()),
    ];
    expect(all.length).toBeGreaterThan(3500);
    const notFast = all.filter((r) => !fast(r)).map((r) => `${r.resourceType}/${r.id}`);
    expect(notFast).toEqual([]);
    const sample = all.filter((_, i) => i % 25 === 0);
    for (const r of sample) expect(medplum(r)).toEqual([]);
    for (const r of [patient, encounter, condition, claim, medication]) {
      expect(fast(r)).toBe(true);
      expect(medplum(r)).toEqual([]);
    }
  });

  it('accepts on the fast path what the official schema refused but Medplum takes (a dateTime without zone, an id with _, a primitive given by its extension)', () => {
    for (const value of [
      { ...encounter, period: { start: '2024-05-10T09:00:00' } },
      { ...encounter, id: 'e_1' }, // Medplum types Resource.id as System.String (no id pattern)
      { ...claim, created: undefined, _created: { extension: [{ url: 'http://x', valueCode: 'unknown' }] } },
    ]) {
      expect(fast(value)).toBe(true);
      expect(medplum(value)).toEqual([]);
    }
  });

  it('memoizes an invariant by the elements it reads only: the same resource with another of those elements is judged anew', () => {
    const resolved = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }] };
    const cases: [Json, boolean][] = [
      [condition, true],
      [{ ...condition, id: 'c2', code: { text: 'Flu' } }, true],
      [{ ...condition, abatementDateTime: '2024-01-01' }, false], // con-4: abated yet active
      [{ ...condition, clinicalStatus: resolved, abatementDateTime: '2024-01-01' }, true],
      [{ ...condition, abatementString: 'last spring' }, false], // another choice of abatement[x]
      [{ ...condition, clinicalStatus: undefined }, true],
      [
        {
          ...condition,
          verificationStatus: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }],
          },
        },
        false, // con-5: entered in error, yet a clinical status
      ],
      [condition, true],
    ];
    for (const [value, valid] of cases) {
      expect(fast(value)).toBe(valid);
      expect(medplum(value).length === 0).toBe(valid);
    }
    const appointment: Json = {
      resourceType: 'Appointment',
      id: 'a1',
      status: 'booked',
      participant: [{ actor: { reference: 'Patient/p1' }, status: 'accepted' }],
    };
    expect(fast(appointment)).toBe(false); // app-3: a booked appointment needs start and end
    expect(text(validateFhirResource(appointment))).toEqual(text(medplum(appointment)));
    expect(text(validateFhirResource(appointment))[0]).toMatch(/^Appointment: Constraint app-3 not met/);
    const booked = { ...appointment, start: '2024-05-10T09:00:00Z', end: '2024-05-10T09:30:00Z' };
    expect(fast(booked)).toBe(true);
    expect(fast({ ...booked, end: undefined })).toBe(false); // app-2
  });

  it('never accepts on the fast path what Medplum rejects: 1,500 seeded random mutations of the fixtures', () => {
    const pool = [
      ...['Patient', 'Encounter', 'Condition', 'MedicationRequest'].flatMap((t) => resources(bulkFile(t)).slice(0, 15)),
      ...resources(claimsFile()),
    ];
    const odd: unknown[] = [
      '',
      ' ',
      'a\tb',
      'a\u0001',
      'a  b',
      '\u00a0',
      1.5,
      -1,
      0,
      1,
      2147483648,
      true,
      null,
      {},
      [],
      [{}],
      [null],
      [[]],
      ['a', ''],
      '2020-13-01',
      '2020-01-01T10:00',
      '2020-01-01T25:00:00Z',
      'x',
      'AAA=',
      'urn:uuid:x',
      { extension: [{ url: 'http://x' }] },
      { extension: [] },
      { id: 'x' },
      { url: 'http://x', valueString: 'a', valueCode: 'b' },
      { text: 'x', coding: [] },
      { coding: [{}] },
      { reference: '#a' },
      { start: '2020-02-01', end: '2020-01-01' },
      { div: 5 },
      { resourceType: 'Patient' },
      [{ resourceType: 'Patient', id: 'x' }],
    ];
    let seed = 20261205;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    /** Every key path of a JSON value. */
    const paths = (o: unknown, p: string[] = [], out: string[][] = []): string[][] => {
      if (o && typeof o === 'object')
        for (const k of Object.keys(o)) {
          out.push([...p, k]);
          paths((o as Json)[k], [...p, k], out);
        }
      return out;
    };
    let accepted = 0;
    const looser: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const r = structuredClone(pool[rnd(pool.length)]);
      const ps = paths(r).filter((p) => p[0] !== 'resourceType');
      for (let j = 0, n = 1 + rnd(2); j < n; j++) {
        const p = ps[rnd(ps.length)];
        let o: any = r;
        for (const k of p.slice(0, -1)) o = o?.[k];
        if (!o || typeof o !== 'object') continue;
        const last = p[p.length - 1];
        const act = rnd(4);
        if (act === 0) delete o[last];
        else if (act === 3 && !Array.isArray(o))
          o[['_' + last, last + 'X', 'extension', 'modifierExtension', 'text', 'id'][rnd(6)]] = odd[rnd(odd.length)];
        else o[last] = odd[rnd(odd.length)];
      }
      if (!fast(r)) continue;
      accepted++;
      let rejected: boolean;
      try {
        rejected = medplum(r).length > 0;
      } catch {
        rejected = true; // Medplum's validator fails on it (the import then rejects it)
      }
      if (rejected) looser.push(JSON.stringify(r).slice(0, 300));
    }
    expect(accepted).toBeGreaterThan(500);
    expect(looser).toEqual([]);
  });

  it("rejects an unknown resource type with the library's message, and a resource without a type", () => {
    expect(text(validateFhirResource({ resourceType: 'Foo', id: 'x' }))).toEqual([': Unknown data type: Foo']);
    expect(text(validateFhirResource({ id: 'x' }))).toEqual(['resourceType: Missing resourceType']);
  });
});
