import {
  auditCutoff,
  DEFAULT_RETENTION_POLICY,
  inactivityCutoff,
  monthsBetween,
  yearsBefore,
} from 'src/privacy/retention/domain/retention-policy';

describe('retention policy arithmetic', () => {
  it('moves back by whole months, clamping the day to the month end', () => {
    expect(yearsBefore(new Date('2026-11-24T12:00:00Z'), 6).toISOString()).toBe('2020-11-24T12:00:00.000Z');
    expect(yearsBefore(new Date('2024-02-29T00:00:00Z'), 1).toISOString()).toBe('2023-02-28T00:00:00.000Z');
    expect(yearsBefore(new Date('2026-03-31T08:00:00Z'), 0.25).toISOString()).toBe('2025-12-31T08:00:00.000Z');
    expect(yearsBefore(new Date('2026-05-31T08:00:00Z'), 0.25).toISOString()).toBe('2026-02-28T08:00:00.000Z');
    expect(yearsBefore(new Date('2026-11-24T12:00:00Z'), 2.5).toISOString()).toBe('2024-05-24T12:00:00.000Z');
  });

  it('keeps every patient by default; otherwise the cutoff is asOf minus the years', () => {
    const asOf = new Date('2026-11-24T12:00:00Z');
    expect(inactivityCutoff(asOf, DEFAULT_RETENTION_POLICY)).toBeNull();
    expect(inactivityCutoff(asOf, { inactivePatientYears: 7, auditYears: 6 })?.toISOString()).toBe('2019-11-24T12:00:00.000Z');
  });

  it('retires audit by whole months, never less than six years', () => {
    const asOf = new Date('2026-11-24T12:00:00Z');
    expect(auditCutoff(asOf, DEFAULT_RETENTION_POLICY).toISOString()).toBe('2020-11-01T00:00:00.000Z');
    expect(auditCutoff(asOf, { inactivePatientYears: null, auditYears: 10 }).toISOString()).toBe('2016-11-01T00:00:00.000Z');
    expect(auditCutoff(asOf, { inactivePatientYears: null, auditYears: 2 }).toISOString()).toBe('2020-11-01T00:00:00.000Z');
  });

  it('lists the months between two instants', () => {
    expect(monthsBetween(new Date('2019-11-15T00:00:00Z'), new Date('2020-02-01T00:00:00Z'))).toEqual([
      '2019-11',
      '2019-12',
      '2020-01',
      '2020-02',
    ]);
    expect(monthsBetween(new Date('2020-02-01T00:00:00Z'), new Date('2019-02-01T00:00:00Z'))).toEqual([]);
  });
});
