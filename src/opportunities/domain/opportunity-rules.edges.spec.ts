import {
  classify,
  estimatedValueCents,
  expectedNextVisit,
  OpportunityFacts,
  outreachWithChannel,
  suggestedAction,
} from 'src/opportunities/domain/opportunity-rules';

/** The less travelled paths of the opportunity rules (the main rules are in opportunity-rules.spec.ts). */
const d = (s: string): Date => new Date(`${s}T10:00:00.000Z`);
const NOW = d('2026-11-24');
const facts = (f: Partial<OpportunityFacts> = {}): OpportunityFacts => ({
  patientId: 'p1',
  status: 'dormant',
  riskLevel: 'medium',
  ltvCents: 10_000,
  successProbability: 0.5,
  avgSessionValueCents: 10_000,
  lastContactAt: null,
  nextAppointmentAt: null,
  marketingConsent: true,
  appointmentReminders: true,
  preferredChannel: 'sms',
  visitCount: 1,
  firstVisitAt: d('2026-05-01'),
  lastVisitAt: d('2026-05-01'),
  activePlan: null,
  hasCompletedPlan: false,
  ...f,
});

describe('opportunity rules, the remaining paths', () => {
  it('a plan without an end date and a patient without a rhythm: the default plan cadence (30 days)', () => {
    const plan = { remainingSessions: 4, sessionValueCents: 0, startedAt: d('2026-04-01'), endsAt: null, plannedSessions: 6 };
    const expected = expectedNextVisit(facts({ activePlan: plan }), 180);
    expect(expected).toMatchObject({ basis: 'treatment_plan', intervalDays: 30 });
    // A plan session without a price is valued at the patient's average session: min(4 sessions, 365/30) × 100.00.
    expect(estimatedValueCents(facts({ activePlan: plan }), expected, 180)).toBe(40_000);
  });

  it('a success probability that is not a number counts as 0', () => {
    const o = classify(facts({ successProbability: NaN }), { ltvThresholdCents: 1_000_000, recallDays: 180 }, NOW);
    expect(o).toMatchObject({ type: 'inactive_patient', successProbability: 0 });
  });

  it('offers: a welcome-back offer to a patient at risk, a due visit, an unknown type', () => {
    expect(suggestedAction({ type: 'inactive_patient', outreach: 'offer', channel: 'email', patientStatus: 'at_risk' })).toBe(
      'Email the patient with a welcome-back offer: a complimentary check-up with their next booking',
    );
    expect(suggestedAction({ type: 'overdue_appointment', outreach: 'offer', channel: 'sms', patientStatus: 'dormant' })).toBe(
      'Text the patient to offer a booking for their due visit',
    );
    expect(suggestedAction({ type: 'lost_patient' as never, outreach: 'offer', channel: 'email', patientStatus: 'at_risk' })).toBe(
      'Email the patient',
    );
  });

  it('an unknown outreach kind falls back to contacting the patient', () => {
    expect(
      suggestedAction({ type: 'inactive_patient', outreach: 'carrier_pigeon' as never, channel: 'phone', patientStatus: 'at_risk' }),
    ).toBe('Call the patient');
  });
});

describe('consent per channel', () => {
  it('offers on the preferred channel when granted there, else on the first granted one, and says why', () => {
    const grants = { marketingConsent: true, appointmentReminders: true, preferredChannel: 'sms' as const };
    expect(outreachWithChannel('inactive_patient', false, { ...grants, consentGrants: ['marketing:sms'] })).toEqual({
      outreach: 'offer',
      channel: 'sms',
    });
    expect(outreachWithChannel('inactive_patient', false, { ...grants, consentGrants: ['marketing:phone', 'marketing:email'] })).toEqual({
      outreach: 'offer',
      channel: 'email',
    });
    expect(
      outreachWithChannel('overdue_appointment', true, { ...grants, consentGrants: ['marketing:sms', 'appointment_reminders:whatsapp'] }),
    ).toEqual({ outreach: 'reminder', channel: 'whatsapp' });
    expect(outreachWithChannel('high_value_risk', false, { ...grants, consentGrants: [] })).toEqual({
      outreach: 'next_contact',
      channel: 'sms',
    });
    expect(
      suggestedAction({ type: 'overdue_appointment', outreach: 'reminder', channel: 'whatsapp', patientStatus: 'dormant' }, 'sms'),
    ).toBe(
      'Send a recall reminder by WhatsApp with a link to book the overdue visit (not by SMS, the preferred channel: no consent to appointment reminders there)',
    );
    expect(suggestedAction({ type: 'inactive_patient', outreach: 'offer', channel: 'email', patientStatus: 'dormant' }, 'phone')).toMatch(
      /\(not by phone, the preferred channel: no consent to marketing there\)$/,
    );
    expect(
      suggestedAction({ type: 'inactive_patient', outreach: 'next_contact', channel: 'phone', patientStatus: 'dormant' }, 'sms'),
    ).toMatch(/^No marketing consent/);
  });
});
