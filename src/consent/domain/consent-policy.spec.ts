import fc from 'fast-check';
import {
  consentedChannel,
  ConsentDecisionFacts,
  consentProjection,
  decisionFor,
  effectiveConsents,
  effectiveFor,
  grantToken,
} from 'src/consent/domain/consent-policy';

const T = (iso: string): Date => new Date(iso);
const AT = T('2026-11-24T12:00:00Z');
let seq = 0;
const d = (over: Partial<ConsentDecisionFacts>): ConsentDecisionFacts => ({
  id: `d${String(++seq).padStart(3, '0')}`,
  purpose: 'marketing',
  channel: null,
  decision: 'granted',
  recordedAt: T('2026-01-01T00:00:00Z'),
  expiresAt: null,
  storedAt: T('2026-01-01T00:00:00Z'),
  ...over,
});

describe('consent policy', () => {
  it('without decisions grants nothing', () => {
    const all = effectiveConsents([], AT);
    expect(all).toHaveLength(2 * 4 + 3);
    expect(all.every((e) => !e.granted && e.state === 'not_recorded' && e.decisionId === null)).toBe(true);
    expect(consentProjection([], AT)).toEqual({ grants: [], marketingConsent: false, appointmentReminders: false, reviewAt: null });
  });

  it('the newest decision supersedes: a withdrawal after a grant removes it, on every channel', () => {
    const grant = d({ recordedAt: T('2026-01-01T00:00:00Z') });
    const withdraw = d({ decision: 'withdrawn', recordedAt: T('2026-06-01T00:00:00Z') });
    expect(effectiveFor([grant], 'marketing', 'sms', AT)).toMatchObject({ granted: true, state: 'granted', decisionId: grant.id });
    expect(effectiveFor([withdraw, grant], 'marketing', 'sms', AT)).toMatchObject({
      granted: false,
      state: 'withdrawn',
      decisionId: withdraw.id,
    });
    expect(consentProjection([grant, withdraw], AT).marketingConsent).toBe(false);
  });

  it('a channel decision counts for its channel only, and a newer all-channel one overrides it', () => {
    const all = d({ recordedAt: T('2026-01-01T00:00:00Z') });
    const noSms = d({ channel: 'sms', decision: 'withdrawn', recordedAt: T('2026-02-01T00:00:00Z') });
    const p = consentProjection([all, noSms], AT);
    expect(p.grants).toEqual(['marketing:email', 'marketing:phone', 'marketing:whatsapp']);
    expect(p.marketingConsent).toBe(true);
    const again = d({ recordedAt: T('2026-03-01T00:00:00Z') });
    expect(consentProjection([all, noSms, again], AT).grants).toContain('marketing:sms');
    expect(decisionFor([all, noSms], 'marketing', 'email')?.id).toBe(all.id);
    expect(decisionFor([all, noSms], 'analytics', null)).toBeNull();
  });

  it('an expired grant is expired (not granted) and does not bring an older decision back; review at the earliest expiry', () => {
    const old = d({ purpose: 'analytics', recordedAt: T('2020-01-01T00:00:00Z') });
    const lapsing = d({ purpose: 'analytics', recordedAt: T('2025-01-01T00:00:00Z'), expiresAt: T('2026-01-01T00:00:00Z') });
    expect(effectiveFor([old, lapsing], 'analytics', null, AT)).toMatchObject({ granted: false, state: 'expired', decisionId: lapsing.id });
    const future = d({ purpose: 'research', expiresAt: T('2027-01-01T00:00:00Z') });
    const sooner = d({ purpose: 'appointment_reminders', expiresAt: T('2026-12-01T00:00:00Z') });
    const p = consentProjection([future, sooner], AT);
    expect(p.reviewAt).toEqual(T('2026-12-01T00:00:00Z'));
    expect(p.appointmentReminders).toBe(true);
    expect(p.grants).toEqual([
      'appointment_reminders:email',
      'appointment_reminders:phone',
      'appointment_reminders:sms',
      'appointment_reminders:whatsapp',
      'research',
    ]);
    expect(consentProjection([future, sooner], T('2026-12-01T00:00:00Z')).appointmentReminders).toBe(false);
  });

  it('decisions at the same moment: the one stored later wins, then the larger id', () => {
    const a = d({ id: 'a', decision: 'granted', storedAt: T('2026-01-01T00:00:01Z') });
    const b = d({ id: 'b', decision: 'denied', storedAt: T('2026-01-01T00:00:00Z') });
    expect(decisionFor([b, a], 'marketing', 'email')?.id).toBe('a');
    const c = d({ id: 'c', decision: 'denied', storedAt: T('2026-01-01T00:00:01Z') });
    expect(decisionFor([a, c], 'marketing', 'email')?.id).toBe('c');
  });

  it('chooses the preferred channel when granted there, else the first granted one, else none', () => {
    expect(consentedChannel(['marketing:sms', 'marketing:email'], 'marketing', 'sms')).toBe('sms');
    expect(consentedChannel(['marketing:sms', 'marketing:phone'], 'marketing', 'whatsapp')).toBe('sms');
    expect(consentedChannel(['appointment_reminders:sms'], 'marketing', 'sms')).toBeNull();
    expect(grantToken('analytics', null)).toBe('analytics');
  });

  it('property: the effective state is the newest applicable decision, whatever the order of the history', () => {
    const decision = fc.record({
      purpose: fc.constantFrom('marketing' as const, 'analytics' as const),
      channel: fc.constantFrom(null, 'sms' as const, 'email' as const),
      decision: fc.constantFrom('granted' as const, 'withdrawn' as const, 'denied' as const),
      day: fc.integer({ min: 0, max: 400 }),
      expires: fc.option(fc.integer({ min: 0, max: 800 }), { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(decision, { maxLength: 12 }), fc.integer({ min: 0, max: 800 }), (raw, atDay) => {
        const base = T('2025-01-01T00:00:00Z').getTime();
        const day = (x: number): Date => new Date(base + x * 86_400_000);
        const history = raw.map((r, i) =>
          d({
            id: `x${String(i).padStart(3, '0')}`,
            purpose: r.purpose,
            channel: r.purpose === 'marketing' ? r.channel : null,
            decision: r.decision,
            recordedAt: day(r.day),
            expiresAt: r.expires === null ? null : day(r.day + r.expires),
            storedAt: day(0),
          }),
        );
        const at = day(atDay);
        const forward = consentProjection(history, at);
        expect(consentProjection([...history].reverse(), at)).toEqual(forward);
        const e = effectiveFor(history, 'marketing', 'sms', at);
        const applicable = history.filter((h) => h.purpose === 'marketing' && (h.channel === null || h.channel === 'sms'));
        const newest = applicable.reduce<ConsentDecisionFacts | null>(
          (b, h) =>
            b === null || h.recordedAt > b.recordedAt || (h.recordedAt.getTime() === b.recordedAt.getTime() && h.id > b.id) ? h : b,
          null,
        );
        expect(e.decisionId).toBe(newest?.id ?? null);
        expect(e.granted).toBe(newest !== null && newest.decision === 'granted' && (newest.expiresAt === null || newest.expiresAt > at));
        expect(forward.grants.includes('marketing:sms')).toBe(e.granted);
      }),
    );
  });
});
