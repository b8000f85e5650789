import fc from 'fast-check';
import { isoFromPg, money, riskFactorTexts, score, toListItem, toProfile } from 'src/patients/profile-mappers';
import { types } from 'pg';
import type { ProfileListRow, ProfileRow } from 'src/patients/patients.repository';
import { randomBytes, randomUUID } from 'node:crypto';
import { encryptContact } from 'src/records/phi/patient-contact';
import { PhiCipherCore } from 'src/records/phi/phi-cipher';
import { PhiDataKey } from 'src/records/phi/phi-data-key';
import { PhiReader } from 'src/records/phi/phi-reader';

/** A stand-in reader: "enc:<plain>" decrypts to <plain>. */
const cipher = {
  text: (v: string | null) => (v === null ? null : v.replace(/^enc:/, '')),
  recent: (v: string | null) => (v === null ? null : v.replace(/^enc:/, '')),
  json: <T>(v: string | null) => (v === null ? null : (JSON.parse(v.replace(/^enc:/, '')) as T)),
  contact: (v: string) => JSON.parse(v.replace(/^enc:/, '')) as unknown,
} as unknown as PhiReader;

const at = new Date('2026-11-20T10:00:00.000Z');

describe('profile mappers', () => {
  it('money: cents to units, never negative', () => {
    expect([money(12_550), money(0), money(null), money(-5), money(1)]).toEqual([125.5, 0, 0, 0, 0.01]);
  });

  it('score: clamped to 0-100, two decimals, 0 for missing or NaN', () => {
    expect([score(55.555), score(101), score(-3), score(null), score(Number.NaN)]).toEqual([55.56, 100, 0, 0, 0]);
  });

  it('risk factors: the text of stored factor objects, plain strings kept, anything else dropped', () => {
    expect(riskFactorTexts([{ code: 'a', text: 'No visit for 142 days', points: 20 }, 'Missed 2 of 5', { code: 'b' }, 7])).toEqual(['No visit for 142 days', 'Missed 2 of 5']);
    expect(riskFactorTexts(null)).toEqual([]);
  });

  it('list item: decrypted contact, units, ISO dates', () => {
    const row: ProfileListRow = {
      id: 'p1', name: 'Ada', contact_enc: null, phone_enc: 'enc:+1555', email_enc: null, ltv_cents: 99_900, total_sessions: 3,
      last_appointment_at: '2026-03-04 05:06:07.089+00', next_appointment_at: null, status: 'dormant', risk_score: 40, engagement_score: 60,
      registered_at: '2026-03-04 05:06:07.089+00', updated_at: '2026-03-04 05:06:07.089+00', sort_key: 'ada', segment: 'keyed',
    };
    expect(toListItem(row, cipher)).toEqual({
      id: 'p1', name: 'Ada', phone: '+1555', email: null, ltv: 999, total_sessions: 3, last_appointment: '2026-03-04T05:06:07.089Z',
      next_appointment: null, status: 'dormant', risk_score: 40, engagement_score: 60, created_at: '2026-03-04T05:06:07.089Z', updated_at: '2026-03-04T05:06:07.089Z',
    });
  });

  it('list item: phone and email from the contact ciphertext in one decryption, the two columns only for a row without one', () => {
    const master = new PhiCipherCore({ encryption: [{ version: 'v1', key: randomBytes(32) }], blindIndex: randomBytes(32) });
    const org = randomUUID();
    const key = new PhiDataKey(org, 'p1', randomBytes(32), master);
    const [ada, bo] = [randomUUID(), randomUUID()];
    const decrypt = jest.spyOn(key, 'decrypt');
    const base = {
      name: 'Ada', ltv_cents: 0, total_sessions: 0, last_appointment_at: null, next_appointment_at: null, status: 'active' as const, risk_score: 0,
      engagement_score: 0, registered_at: '2026-03-04 05:06:07+00', updated_at: '2026-03-04 05:06:07+00', sort_key: 'ada', segment: 'keyed' as const,
    };
    const withContact: ProfileListRow = { ...base, id: ada, contact_enc: encryptContact(key, ada, '+1 503 555 0101', null), phone_enc: null, email_enc: null };
    expect(toListItem(withContact, new PhiReader(key, org))).toMatchObject({ phone: '+1 503 555 0101', email: null });
    expect(decrypt).toHaveBeenCalledTimes(1);
    // A row stored before the contact ciphertext: its two columns (two decryptions).
    const place = (column: string): { table: string; column: string; row: string } => ({ table: 'patients', column, row: bo });
    const old: ProfileListRow = { ...base, id: bo, contact_enc: null, phone_enc: key.encrypt('+1 503 555 0102', place('phone_enc')), email_enc: key.encrypt('bo@example.test', place('email_enc')) };
    expect(toListItem(old, new PhiReader(key, org))).toMatchObject({ phone: '+1 503 555 0102', email: 'bo@example.test' });
    expect(decrypt).toHaveBeenCalledTimes(3);
    // A contact ciphertext moved to another patient's row (its place is bound in) reads as nulls, never as the other's.
    const reader = new PhiReader(key, org);
    expect(toListItem({ ...withContact, id: bo }, reader)).toMatchObject({ id: bo, phone: null, email: null });
    expect(reader.unreadable).toBe(1);
    expect(encryptContact(key, ada, null, null)).toBeNull();
  });

  it('timestamps as PostgreSQL prints them (UTC, DateStyle ISO) to ISO 8601 with milliseconds, as Date would', () => {
    const cases: [string, string][] = [
      ['2026-11-25 08:30:00+00', '2026-11-25T08:30:00.000Z'],
      ['2026-11-25 08:30:00.1+00', '2026-11-25T08:30:00.100Z'],
      ['2026-11-25 08:30:00.12+00', '2026-11-25T08:30:00.120Z'],
      ['2026-11-25 08:30:00.123+00', '2026-11-25T08:30:00.123Z'],
      ['2026-11-25 08:30:00.123999+00', '2026-11-25T08:30:00.123Z'], // truncated, as pg's own parser does
      ['1999-12-31 23:59:59.999999+00', '1999-12-31T23:59:59.999Z'],
      ['2026-11-25 09:30:00.5+01', '2026-11-25T08:30:00.500Z'], // another zone: through Date
    ];
    for (const [text, expected] of cases) expect(isoFromPg(text)).toBe(expected);
    // The slicing agrees with pg's parser then toISOString on random instants (fast-check: a failure prints the seed
    // and path that reproduce it).
    const parse = types.getTypeParser(1184) as (t: string) => Date;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: 0, max: 999 }), (ms, micros) => {
        const d = new Date(ms);
        const frac = `${String(d.getUTCMilliseconds()).padStart(3, '0')}${String(micros).padStart(3, '0')}`.replace(/0+$/, '');
        const text = `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)}${frac ? `.${frac}` : ''}+00`;
        expect(isoFromPg(text)).toBe(parse(text).toISOString());
      }),
      { numRuns: 2000 },
    );
    expect(() => isoFromPg('not a time')).toThrow('Unexpected timestamp text');
  });

  const bare: ProfileRow = {
    id: 'p2', name: 'Bo', phone_enc: null, email_enc: null, date_of_birth_enc: 'enc:1990-02-03T00:00:00Z', address_enc: 'enc:{"city":"Lyon"}',
    conditions_enc: 'enc:["asthma", 3]', allergies_enc: null, medications_enc: null, preferred_channel: 'email', marketing_consent: false,
    appointment_reminders: true, registered_at: at, updated_at: at, ltv_cents: null, total_sessions: null, avg_session_value_cents: null,
    last_appointment_at: null, next_appointment_at: null, risk_score: null, risk_level: null, risk_factors: null, computed_at: null,
    metrics_updated_at: null, history: [],
  };

  it('profile without a metrics row: documented defaults', () => {
    const p = toProfile(bare, cipher, true);
    expect(p.engagement_metrics).toEqual({ ltv: 0, total_sessions: 0, avg_session_value: 0, last_appointment: null, next_appointment: null, appointment_history: [] });
    expect(p.risk_assessment).toEqual({ risk_score: 0, risk_level: 'low', risk_factors: [], last_assessed: at.toISOString() });
    expect(p.date_of_birth).toBe('1990-02-03');
    expect(p.address).toEqual({ street: null, city: 'Lyon', state: null, zip: null });
    expect(p.medical_info).toEqual({ conditions: ['asthma'], allergies: [], medications: [] });
  });

  it('profile without read_medical: medical_info null', () => {
    expect(toProfile(bare, cipher, false).medical_info).toBeNull();
  });
});
