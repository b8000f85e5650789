import fc from 'fast-check';
import { groupSizes } from 'src/privacy/domain/k-anonymity';
import { paymentRow, releasedDate, releasePatients, scoresRow, SourcePatient, stateCode, visitRow } from 'src/privacy/domain/deidentify';

const AT = new Date('2026-11-24T12:00:00Z');
let n = 0;
const options = (k: number, dates: 'year' | 'interval' = 'year') => ({ k, dates, at: AT, studyId: () => `study-${++n}` });

const patient = (i: number, over: Partial<SourcePatient> = {}): SourcePatient => ({
  patientId: `pid-${i}`,
  externalId: `EXT-${i}`,
  name: `Name${i} Surname`,
  email: `person${i}@mail.example`,
  phone: `+1 503 555 ${String(1000 + i)}`,
  dateOfBirth: '1984-03-09',
  address: { street: `${i} Harbor Street`, city: 'Portland', state: 'OR', zip: '97201' },
  firstVisitAt: new Date('2020-01-01T09:00:00Z'),
  ...over,
});

describe('releasePatients', () => {
  it('releases a group of k with ZIP3, state and a 5-year band, and random study ids', () => {
    const r = releasePatients(
      Array.from({ length: 11 }, (_, i) => patient(i)),
      options(11),
    );
    expect(r.rows).toHaveLength(11);
    expect(new Set(r.rows.map((x) => x.study_id)).size).toBe(11);
    expect(r.rows[0]).toEqual({ study_id: expect.stringMatching(/^study-/), birth_year_band: '1980-1984', zip3: '972', state: 'OR' });
    expect(r.report).toMatchObject({ considered: 11, released: 11, suppressed: 0, releasedPerLevel: [11, 0, 0, 0, 0, 0] });
    expect(r.report.removed).toEqual({
      name: 11,
      email: 11,
      phone: 11,
      street: 11,
      city: 11,
      zip: 11,
      date_of_birth: 11,
      record_number: 11,
    });
    expect(r.report.generalized).toEqual({
      zip_to_zip3: 11,
      zip_to_000: 0,
      birth_date_to_band: 11,
      age_90_plus: 0,
      state_not_a_code: 0,
      widened_for_k: 0,
    });
    expect(r.released.get('pid-3')?.studyId).toBe(r.rows[3].study_id);
  });

  it('generalizes further before suppressing, and counts it', () => {
    const ps = [
      ...Array.from({ length: 6 }, (_, i) => patient(i, { dateOfBirth: '1981-01-01' })),
      ...Array.from({ length: 6 }, (_, i) => patient(10 + i, { dateOfBirth: '1986-01-01' })),
      patient(99, { address: { state: 'Oregon', zip: '0360' }, dateOfBirth: null }),
    ];
    const r = releasePatients(ps, options(11));
    expect(r.rows.map((x) => x.birth_year_band)).toEqual(Array.from({ length: 12 }, () => '1980-1989'));
    expect(r.report.releasedPerLevel).toEqual([0, 12, 0, 0, 0, 0]);
    expect(r.report.suppressed).toBe(1);
    expect(r.released.has('pid-99')).toBe(false);
    expect(r.report.generalized).toMatchObject({ zip_to_000: 1, state_not_a_code: 1, widened_for_k: 12, birth_date_to_band: 12 });
    expect(r.report.removed.date_of_birth).toBe(12);
  });

  it('groups patients of 90 and over as 90+ and drops missing addresses', () => {
    const r = releasePatients(
      Array.from({ length: 3 }, (_, i) => patient(i, { dateOfBirth: '1930-05-05', address: null })),
      options(3),
    );
    expect(r.rows.map((x) => [x.birth_year_band, x.zip3, x.state])).toEqual(Array.from({ length: 3 }, () => ['90+', '000', 'unknown']));
    expect(r.report.generalized.age_90_plus).toBe(3);
    expect(r.report.removed.street).toBe(0);
  });

  it('maps visits, payments and scores with dates as years or days since the first visit', () => {
    const year = { studyId: 's1', anchor: new Date('2020-01-01T09:00:00Z') };
    expect(visitRow({ startsAt: new Date('2020-01-11T10:00:00Z'), status: 'completed', valueCents: 12550 }, year, 'year')).toEqual({
      study_id: 's1',
      year: 2020,
      status: 'completed',
      value: 125.5,
    });
    expect(
      paymentRow({ occurredAt: new Date('2020-01-11T10:00:00Z'), amountCents: 100, kind: 'payment', status: 'paid' }, year, 'interval'),
    ).toEqual({
      study_id: 's1',
      days_since_first_visit: 10,
      amount: 1,
      kind: 'payment',
      status: 'paid',
    });
    expect(releasedDate(new Date('2020-01-11T10:00:00Z'), { studyId: 's2', anchor: null }, 'interval')).toEqual({
      days_since_first_visit: null,
    });
    expect(
      scoresRow({ status: 'active', riskScore: 12, riskLevel: 'low', engagementScore: 80, ltvCents: null, totalSessions: 3 }, year),
    ).toEqual({
      study_id: 's1',
      status: 'active',
      risk_score: 12,
      risk_level: 'low',
      engagement_score: 80,
      lifetime_value: null,
      total_visits: 3,
    });
    expect(stateCode(' or ')).toBe('OR');
    expect(stateCode(null)).toBe('unknown');
  });

  it('property: no released row carries an identifier of the input, and every quasi-identifier group has at least k rows', () => {
    const arbPatient = fc.record({
      name: fc.string({ minLength: 4, maxLength: 12 }).map((s) => `NAME:${s}`),
      email: fc.emailAddress(),
      phone: fc.integer({ min: 1000000, max: 9999999 }).map((x) => `+1 555 ${x}`),
      dob: fc
        .date({ min: new Date('1920-01-01'), max: new Date('2020-12-31'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10)),
      street: fc.string({ minLength: 3, maxLength: 10 }).map((s) => `STREET:${s}`),
      city: fc.string({ minLength: 3, maxLength: 10 }).map((s) => `CITY:${s}`),
      state: fc.constantFrom('OR', 'WA', 'CA', 'Oregon', null),
      zip: fc.oneof(fc.constantFrom('97201', '97202', '98101', '03601', '89012'), fc.integer({ min: 10000, max: 99999 }).map(String)),
    });
    fc.assert(
      fc.property(
        fc.array(arbPatient, { maxLength: 120 }),
        fc.integer({ min: 2, max: 12 }),
        fc.constantFrom<'year' | 'interval'>('year', 'interval'),
        (input, k, dates) => {
          const source: SourcePatient[] = input.map((p, i) => ({
            patientId: `pid-${i}`,
            externalId: `EXTERNAL-${i}`,
            name: p.name,
            email: p.email,
            phone: p.phone,
            dateOfBirth: p.dob,
            address: { street: p.street, city: p.city, state: p.state, zip: p.zip },
            firstVisitAt: new Date('2015-06-01T00:00:00Z'),
          }));
          const r = releasePatients(source, options(k, dates));
          const out = r.rows.map((row) => {
            const released = r.released.get(source.find((s) => r.released.get(s.patientId)?.studyId === row.study_id)?.patientId ?? '');
            const visit = released
              ? visitRow({ startsAt: new Date('2021-03-04T05:06:07Z'), status: 'completed', valueCents: 100 }, released, dates)
              : {};
            return JSON.stringify([row, visit]);
          });
          const text = out.join('\n');
          for (const s of source) {
            for (const id of [
              s.name,
              s.email,
              s.phone,
              s.dateOfBirth,
              s.address?.street,
              s.address?.city,
              s.address?.zip,
              s.externalId,
              s.patientId,
            ]) {
              expect(text.includes(`"${id}"`)).toBe(false);
            }
          }
          expect(text.includes('2021-03-04')).toBe(false);
          for (const row of r.rows) expect(row.zip3).toMatch(/^\d{3}$/);
          for (const size of groupSizes(r.rows.map((x) => [x.birth_year_band, x.zip3, x.state])).values())
            expect(size).toBeGreaterThanOrEqual(k);
          expect(r.rows.length + r.report.suppressed).toBe(source.length);
        },
      ),
      { numRuns: 150 },
    );
  });
});
