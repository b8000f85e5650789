import { validateRecord } from 'src/ingestion/validation/record-validators';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const base = { source: 'ehr', external_id: 'x1' };
const errorsOf = (raw: unknown): string[] => {
  const v = validateRecord(raw, NOW);
  return v.ok ? [] : v.errors.map((e) => `${e.field}: ${e.message}`);
};

describe('validateRecord', () => {
  it('normalizes a valid record: money to cents, timestamps to epoch ms, emails lower-cased, defaults filled', () => {
    const v = validateRecord({ ...base, record_type: 'patient', name: ' Ann Lee ', email: 'Ann@Example.COM' }, NOW);
    expect(v.ok && v.record.type === 'patient' && v.record.data).toMatchObject({
      name: 'Ann Lee',
      email: 'ann@example.com',
      preferred_channel: 'email',
      // Not given: no consent decision (the consent writer applies a new patient's defaults).
      marketing_consent: null,
      appointment_reminders: null,
      phone: null,
    });
    const c = validateRecord(
      {
        ...base,
        record_type: 'consent',
        patient_external_id: 'p',
        purpose: 'analytics',
        decision: 'granted',
        recorded_at: '2026-01-01T00:00:00Z',
      },
      NOW,
    );
    expect(c.ok && c.record.type === 'consent' && c.record.data).toMatchObject({
      purpose: 'analytics',
      channel: null,
      decision: 'granted',
      consent_source: 'ingestion',
      recorded_by: null,
      expires_at: null,
    });
    const p = validateRecord(
      {
        ...base,
        record_type: 'payment',
        patient_external_id: 'p',
        occurred_at: '2026-11-20T10:00:00+01:00',
        amount: 0.1 + 0.2,
        kind: 'payment',
        status: 'paid',
      },
      NOW,
    );
    expect(p.ok && p.record.type === 'payment' && p.record.data).toMatchObject({
      amount: 30,
      occurred_at: Date.parse('2026-11-20T09:00:00Z'),
    });
  });

  it('names the field and the expectation for each kind of bad input', () => {
    const appointment = {
      ...base,
      record_type: 'appointment',
      patient_external_id: 'p',
      starts_at: '2026-11-20T09:30:00Z',
      type: 'Visit',
      status: 'completed',
    };
    expect(errorsOf({ ...appointment, value: 12.345 })).toEqual(['value: must have at most 2 decimals']);
    expect(errorsOf({ ...appointment, value: '12' })).toEqual(['value: must be a number in currency units, e.g. 125.50 (got string)']);
    expect(errorsOf({ ...appointment, starts_at: '2026-13-01T00:00:00Z' })).toEqual([
      'starts_at: must be a real date and time from 1900 to 2100',
    ]);
    expect(errorsOf({ ...appointment, starts_at: '2026-11-20' })).toEqual([
      'starts_at: must be an ISO 8601 date-time with a time zone, e.g. 2026-11-20T09:30:00Z',
    ]);
    expect(errorsOf({ ...appointment, status: 'done' })).toEqual(['status: must be one of scheduled, completed, cancelled, no_show']);
    expect(errorsOf({ ...appointment, patient_external_id: undefined })).toEqual(['patient_external_id: is required']);
    expect(errorsOf({ ...base, record_type: 'patient', name: 'A', date_of_birth: '2023-02-29' })).toEqual([
      'date_of_birth: must be a real date from 1900 to 2100',
    ]);
    expect(errorsOf({ ...base, record_type: 'patient', name: 'A', address: { zip: 97201 } })).toEqual([
      'address.zip: must be a string (got number)',
    ]);
    expect(errorsOf({ ...base, record_type: 'patient', name: 'A', conditions: ['ok', ''] })).toEqual(['conditions[1]: must not be empty']);
    expect(
      errorsOf({
        ...base,
        record_type: 'survey_response',
        patient_external_id: 'p',
        submitted_at: '2026-11-20T09:30:00Z',
        nps: 11,
        satisfaction: 0,
      }),
    ).toEqual(['satisfaction: must be an integer from 1 to 5', 'nps: must be an integer from 0 to 10']);
    expect(
      errorsOf({
        record_type: 'referral',
        source: '',
        external_id: 'x'.repeat(129),
        referrer_external_id: 'a',
        referred_external_id: 'b',
        referred_at: '2026-11-20T09:30:00Z',
      }),
    ).toEqual(['source: must not be empty', 'external_id: must be at most 128 characters (got 129)']);
    expect(errorsOf([1, 2])).toEqual([': must be a JSON object']);
  });
});
