import {
  classify,
  expectedNextVisit,
  isOverdue,
  OpportunityFacts,
  outreachFor,
  suggestedAction,
  usualIntervalDays,
} from 'src/opportunities/domain/opportunity-rules';

const d = (s: string): Date => new Date(`${s}T10:00:00.000Z`);
const NOW = d('2026-11-24');
const ORG = { ltvThresholdCents: 100_000, recallDays: 180 };
const facts = (f: Partial<OpportunityFacts> = {}): OpportunityFacts => ({
  patientId: 'p1',
  status: 'active',
  riskLevel: 'low',
  ltvCents: 10_000,
  successProbability: 0.5,
  avgSessionValueCents: 10_000,
  lastContactAt: null,
  nextAppointmentAt: null,
  marketingConsent: true,
  appointmentReminders: true,
  preferredChannel: 'sms',
  visitCount: 3,
  firstVisitAt: d('2026-09-01'),
  lastVisitAt: d('2026-11-01'),
  activePlan: null,
  hasCompletedPlan: false,
  ...f,
});

describe('expected next visit', () => {
  it('uses the usual interval, a plan cadence, or the recall schedule', () => {
    expect(usualIntervalDays(facts())).toBeCloseTo(30.5);
    expect(usualIntervalDays(facts({ visitCount: 1 }))).toBeNull();
    expect(expectedNextVisit(facts(), 180)).toMatchObject({ basis: 'usual_interval' });
    expect(expectedNextVisit(facts({ hasCompletedPlan: true }), 180)).toMatchObject({ basis: 'recall', intervalDays: 180 });
    const plan = {
      remainingSessions: 3,
      sessionValueCents: 5_000,
      startedAt: d('2026-10-01'),
      endsAt: d('2026-12-10'),
      plannedSessions: 10,
    };
    expect(expectedNextVisit(facts({ activePlan: plan }), 180)).toMatchObject({ basis: 'treatment_plan', intervalDays: 7 });
    expect(expectedNextVisit(facts({ lastVisitAt: null, visitCount: 0 }), 180)).toBeNull();
  });

  it('is overdue after max(14 days, 20% of the interval)', () => {
    const e = { at: d('2026-11-01'), intervalDays: 30, basis: 'usual_interval' as const };
    expect(isOverdue(e, d('2026-11-15'))).toBe(false);
    expect(isOverdue(e, d('2026-11-16'))).toBe(true);
    const r = { at: d('2026-06-01'), intervalDays: 180, basis: 'recall' as const };
    expect(isOverdue(r, d('2026-07-07'))).toBe(false);
    expect(isOverdue(r, d('2026-07-08'))).toBe(true);
  });
});

describe('classify', () => {
  it('is null with an upcoming appointment, or when nothing applies', () => {
    expect(classify(facts({ status: 'at_risk', nextAppointmentAt: d('2026-12-01') }), ORG, NOW)).toBeNull();
    expect(classify(facts({ lastVisitAt: d('2026-11-20') }), ORG, NOW)).toBeNull();
  });

  it('picks the most valuable type: high value risk, then overdue, then inactive', () => {
    const old = { firstVisitAt: d('2026-01-01'), lastVisitAt: d('2026-03-01') };
    expect(classify(facts({ ...old, status: 'at_risk', riskLevel: 'high', ltvCents: 100_000 }), ORG, NOW)?.type).toBe('high_value_risk');
    expect(classify(facts({ ...old, status: 'at_risk', riskLevel: 'high', ltvCents: 99_999 }), ORG, NOW)?.type).toBe('overdue_appointment');
    expect(
      classify(facts({ status: 'dormant', visitCount: 1, firstVisitAt: d('2026-09-01'), lastVisitAt: d('2026-09-01') }), ORG, NOW),
    ).toMatchObject({
      type: 'inactive_patient',
      priority: 'medium',
    });
  });

  it('values the return over 12 months and weights it by the success probability', () => {
    const o = classify(
      facts({ firstVisitAt: d('2026-01-01'), lastVisitAt: d('2026-07-01'), visitCount: 7, successProbability: 0.25 }),
      ORG,
      NOW,
    );
    // interval 181/6 days -> 365 / 30.1667 visits x 100.00
    expect(o?.estimatedValueCents).toBe(Math.round((365 / (181 / 6)) * 10_000));
    expect(o?.expectedReturnCents).toBeCloseTo((o?.estimatedValueCents ?? 0) * 0.25);
  });
});

describe('consent', () => {
  it('offers only with marketing consent, reminds only with reminder consent', () => {
    expect(outreachFor('inactive_patient', false, { marketingConsent: true, appointmentReminders: false })).toBe('offer');
    expect(outreachFor('inactive_patient', false, { marketingConsent: false, appointmentReminders: true })).toBe('next_contact');
    expect(outreachFor('high_value_risk', true, { marketingConsent: false, appointmentReminders: true })).toBe('reminder');
    expect(outreachFor('overdue_appointment', true, { marketingConsent: true, appointmentReminders: false })).toBe('next_contact');
    expect(suggestedAction({ type: 'overdue_appointment', outreach: 'reminder', channel: 'whatsapp', patientStatus: 'at_risk' })).toContain(
      'by WhatsApp',
    );
  });
});
