import { releasePatients } from 'src/privacy/domain/deidentify';
import { deidentificationReport, DEIDENTIFICATION_RULES } from 'src/privacy/domain/export-report';

describe('deidentificationReport', () => {
  const released = releasePatients(
    Array.from({ length: 12 }, (_, i) => ({
      patientId: `p${i}`,
      externalId: `E${i}`,
      name: `N${i}`,
      email: i < 10 ? `e${i}@x.test` : null,
      phone: null,
      dateOfBirth: i === 0 ? '1930-01-01' : '1984-03-09',
      address: { street: 's', city: 'c', state: 'OR', zip: '97201' },
      firstVisitAt: null,
    })),
    {
      k: 11,
      dates: 'year',
      at: new Date('2026-11-24T00:00:00Z'),
      studyId: (() => {
        let n = 0;
        return () => `s${++n}`;
      })(),
    },
  );

  it('counts what was removed, generalized and suppressed, and names each rule with its source', () => {
    const r = deidentificationReport(released.report, {
      purpose: 'research',
      k: 11,
      dates: 'interval',
      patientsInOrganization: 20,
      withoutConsent: 8,
      rows: { patients: 11, visits: 30, payments: 25, scores: 11 },
    });
    expect(r.patients).toEqual({ in_organization: 20, without_consent: 8, considered: 12, released: 11, suppressed: 1 });
    expect(r.removed.find((x) => x.field === 'email')?.source_rows).toBe(10);
    expect(r.removed.find((x) => x.field === 'phone')?.source_rows).toBe(0);
    expect(r.generalized.find((x) => x.field === 'age')?.rows).toBe(1);
    expect(r.generalized.find((x) => x.field === 'visit and payment dates')).toEqual({
      field: 'visit and payment dates',
      to: 'days since the first visit',
      rows: 55,
    });
    expect(r.suppression.levels.map((l) => l.rows)).toEqual([11, 0, 0, 0, 0, 0]);
    expect(r.suppression).toMatchObject({ suppressed_rows: 1, generalized_rows: 0 });
    expect(r.rules).toEqual(DEIDENTIFICATION_RULES);
    expect(r.rules.every((rule) => /\S/.test(rule.source))).toBe(true);
    const byYear = deidentificationReport(
      { ...released.report, releasedPerLevel: [] },
      {
        purpose: 'analytics',
        k: 11,
        dates: 'year',
        patientsInOrganization: 12,
        withoutConsent: 0,
        rows: { patients: 0, visits: 1, payments: 0, scores: 0 },
      },
    );
    expect(byYear.generalized.at(-1)?.to).toBe('year');
    expect(byYear.suppression.levels.every((l) => l.rows === 0)).toBe(true);
  });
});
