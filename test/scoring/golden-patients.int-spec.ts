import { ScoringService } from 'src/scoring/scoring.service';
import { classifyStatus, emptyFeatures, engagementScore, lifetimeValue, riskScore, successProbability, type PatientFeatures } from 'src/scoring/domain';
import { createTestApp, TestApp, TEST_NOW } from 'test/utils/test-app';
import { appointment, communication, daysAgo, metrics, patient, payment, referral, scoringOrganization, survey, treatmentPlan } from 'test/scoring/scoring-fixtures';

/**
 * Golden patients: five hand-built patients whose risk score, engagement score, LTV parts, status and success
 * probability are computed by hand from docs/scoring.md ("For engineers"), the arithmetic written out below, and
 * asserted to two decimals through the domain functions (features written by hand) and through the real path
 * (records inserted in PostgreSQL, the features SQL, the recompute, the stored metrics). The organization has too
 * few patients for a model fit, so the model-free rules apply: LTV predicted = an active plan's remaining value,
 * P(alive) = 1 / (1 + max(0, gap − 1)). Default settings; now = TEST_NOW (2026-11-24T12:00Z).
 */
const NOW = TEST_NOW.getTime();
const DAY = 86_400_000;
const ago = (days: number): number => NOW - days * DAY;
/** Recency weight w(age) = 2^(−age / 180). */
const w = (days: number): number => Math.pow(2, -days / 180);
const round1 = (x: number): number => Math.round(x * 10) / 10;
/** The smoothed reply rate with no messages at all: (0 + 1.4) / (0 + 2). */
const NO_MESSAGES_REPLY_RATE = 0.7;

interface Golden {
  features: PatientFeatures;
  status: 'active' | 'dormant' | 'at_risk';
  risk: number;
  level: 'low' | 'medium' | 'high';
  factors: string[];
  engagement: number;
  ltv: { historicalCents: number; predictedCents: number; referralCents: number; totalCents: number };
  success: number;
}

// --- Lars, lapsed regular: four visits 50 days apart, the last 200 days ago, each paid 100.00 ---
const larsVisits = [200, 250, 300, 350];
const lars: Golden = (() => {
  const decayedVisits = larsVisits.reduce((s, d) => s + w(d), 0);
  // risk: visitGap: usual = (350 − 200) / (4 − 1) = 50 days; 200 / 50 = 4 → (4 − 1) / 3 = 1 → 25 points
  //       responsiveness: no messages: 0.75 · (1 − 0.7) + 0.25 · 0 = 0.225 → 13 · 0.225 = 2.925
  //       lastContact: (200 − 30) / (2 · (90 − 30)) = 1.42 → clamped 1 → 13; satisfaction unknown: 0.2 → 8 · 0.2 = 1.6
  //       = 25 + 2.925 + 13 + 1.6 = 42.525 → 42.5 (medium: 35 ≤ 42.5 < 60)
  const risk = 25 * 1 + 13 * 0.75 * (1 - NO_MESSAGES_REPLY_RATE) + 13 * 1 + 8 * 0.2;
  // engagement: attendance (dV + 0.8) / (dV + 1), responsiveness 0.8 · 0.7 + 0.2 · 1 = 0.76, satisfaction 0.6,
  //             compliance (no plan) 0.8, referrals 0; × recency 0.5 + 0.5 · 2^(−200/180)
  const base = 30 * ((decayedVisits + 0.8) / (decayedVisits + 1)) + 25 * 0.76 + 20 * 0.6 + 15 * 0.8 + 10 * 0;
  return {
    features: emptyFeatures({
      registeredAt: Date.UTC(2020, 0, 1),
      lastEngagementAt: ago(200),
      engagementsRecent: 0,
      engagementsPrior: 4, // visits and payments at 200 and 250 days (90 ≤ age < 270)
      firstVisitAt: ago(350),
      lastVisitAt: ago(200),
      completedVisits: 4,
      visitValueCents: 40_000,
      decayedVisits,
      recentAppointments: 4,
      netRevenueCents: 40_000,
    }),
    status: 'at_risk', // 200 days ≥ 90
    risk: round1(risk),
    level: 'medium',
    factors: ['No visit for 200 days; usually every 50 days', 'No contact for 200 days'],
    engagement: round1(base * (0.5 + 0.5 * Math.pow(2, -200 / 180))),
    // historical: 4 × 100.00 paid; nothing predicted without models or a plan
    ltv: { historicalCents: 40_000, predictedCents: 0, referralCents: 0, totalCents: 40_000 },
    // P(alive) = 1 / (1 + (4 − 1)) = 0.25; channel 0.25 + 0.75 · 0.7 = 0.775; no consent: 0.2
    success: 0.25 * (0.25 + 0.75 * NO_MESSAGES_REPLY_RATE) * 0.2,
  };
})();

// --- Ada, engaged: visits every 30 days (last 10 days ago), answers emails within 12 h, rated 5/5, on plan, referred Bob ---
const adaVisits = [10, 40, 70];
const adaEmails = [20, 50];
const ada: Golden = (() => {
  const decayedVisits = adaVisits.reduce((s, d) => s + w(d), 0);
  const outreach = adaEmails.reduce((s, d) => s + w(d), 0); // every email answered: replies = outreach
  const replyRate = (outreach + 1.4) / (outreach + 2);
  // risk: visitGap: usual (70 − 10) / 2 = 30; 10 / 30 − 1 < 0 → 0; lastContact 10 < 30 → 0; rating 5 → 0; plan on
  //       schedule (10 · 100/200 − 5 = 0 behind) → 0; only responsiveness: 13 · 0.75 · (1 − replyRate) ≈ 1.56 → 1.6
  const risk = 13 * 0.75 * (1 - replyRate);
  // engagement: responsiveness 0.8 · replyRate + 0.2 · (1 − 0) (12 h < 24 h), satisfaction (5 − 1) / 4 = 1,
  //             compliance 5 done / 5 due = 1, referrals 1 − e^(−1/2); × 0.5 + 0.5 · 2^(−10/180)
  const base = 30 * ((decayedVisits + 0.8) / (decayedVisits + 1)) + 25 * (0.8 * replyRate + 0.2) + 20 * 1 + 15 * 1 + 10 * (1 - Math.exp(-0.5));
  // success: the preferred channel (email) is where the emails went: (outreach + 2 · replyRate) / (outreach + 2)
  const channelRate = (outreach + 2 * replyRate) / (outreach + 2);
  return {
    features: emptyFeatures({
      registeredAt: Date.UTC(2020, 0, 1),
      marketingConsent: true,
      lastEngagementAt: ago(10), // the visit, its payment and the survey; the replies came at 19.5 and 49.5 days
      engagementsRecent: 9, // 3 visits, 3 payments, 2 replies, 1 survey
      firstVisitAt: ago(70),
      lastVisitAt: ago(10),
      completedVisits: 3,
      visitValueCents: 36_000,
      decayedVisits,
      recentAppointments: 3,
      decayedOutreach: outreach,
      decayedReplies: outreach,
      avgReplyHours: 12,
      preferredChannelOutreach: outreach,
      preferredChannelReplies: outreach,
      netRevenueCents: 34_000, // 3 × 120.00 paid − 20.00 refunded
      weightedSatisfaction: 5,
      referralsMade: 1,
      referredNetRevenueCents: 50_000,
      activePlanRemainingValueCents: 40_000, // (10 − 5) sessions × 80.00
      activePlanSessionsBehind: 0,
      planSessionsDue: 5, // 10 planned × 100 / 200 days elapsed
      planSessionsDone: 5,
    }),
    status: 'active',
    risk: round1(risk),
    level: 'low',
    factors: [], // 1.56 points < 2.5
    engagement: round1(base * (0.5 + 0.5 * Math.pow(2, -10 / 180))),
    // predicted: max(no model, plan 40,000); referral: 10 % of Bob's 500.00
    ltv: { historicalCents: 34_000, predictedCents: 40_000, referralCents: 5_000, totalCents: 79_000 },
    // P(alive): gap 10 / 30 < 1 → 1; marketing consent: 1
    success: 1 * (0.25 + 0.75 * channelRate) * 1,
  };
})();

// --- Dee, declining: one visit in the last 90 days (45 days ago) against five in the 180 before → at risk ---
const deeVisits = [45, 100, 130, 160, 190, 220];
const dee: Golden = (() => {
  const decayedVisits = deeVisits.reduce((s, d) => s + w(d), 0);
  // status: 30 ≤ 45 < 90 with history; declining: 1 / 90 = 0.0111 < (1 − 0.5) · 5 / 180 = 0.0139 → at_risk
  // risk: visitGap: usual (220 − 45) / 5 = 35; 45 / 35 = 9/7 → (9/7 − 1) / 3 = 2/21 → 25 · 2/21 = 2.381
  //       + 2.925 (no messages) + lastContact (45 − 30) / 120 = 0.125 → 1.625 + satisfaction 1.6 = 8.531 → 8.5
  const risk = (25 * 2) / 21 + 13 * 0.75 * (1 - NO_MESSAGES_REPLY_RATE) + 13 * ((45 - 30) / 120) + 8 * 0.2;
  const base = 30 * ((decayedVisits + 0.8) / (decayedVisits + 1)) + 25 * 0.76 + 20 * 0.6 + 15 * 0.8;
  return {
    features: emptyFeatures({
      registeredAt: Date.UTC(2020, 0, 1),
      appointmentReminders: true,
      lastEngagementAt: ago(45),
      engagementsRecent: 1,
      engagementsPrior: 5,
      firstVisitAt: ago(220),
      lastVisitAt: ago(45),
      completedVisits: 6,
      visitValueCents: 60_000,
      decayedVisits,
      recentAppointments: 5,
    }),
    status: 'at_risk',
    risk: round1(risk),
    level: 'low',
    factors: [], // visitGap 2.38 < 2.5; responsiveness has no fact without messages; lastContact 1.6
    engagement: round1(base * (0.5 + 0.5 * Math.pow(2, -45 / 180))),
    ltv: { historicalCents: 0, predictedCents: 0, referralCents: 0, totalCents: 0 },
    // P(alive) = 1 / (1 + (9/7 − 1)) = 7/9; reminders only: 0.6
    success: (7 / 9) * (0.25 + 0.75 * NO_MESSAGES_REPLY_RATE) * 0.6,
  };
})();

// --- Dora, dormant: as Dee with a second recent visit (60 days ago), and a cancelled appointment 5 days ahead ---
const doraVisits = [45, 60, 100, 130, 160, 190, 220];
const dora: Golden = (() => {
  const decayedVisits = doraVisits.reduce((s, d) => s + w(d), 0);
  // status: 2 / 90 = 0.0222 ≥ 0.0139: not declining → dormant; the cancelled future appointment is not upcoming
  // risk: usual (220 − 45) / 6 = 29.17; gap 45 / 29.17 = 1.543 → 0.181 → 25 · 0.181 = 4.524 (a factor: ≥ 2.5)
  //       + 2.925 + 1.625 + 1.6 = 10.674 → 10.7
  const usual = (220 - 45) / 6;
  const gap = 45 / usual;
  const risk = 25 * ((gap - 1) / 3) + 13 * 0.75 * (1 - NO_MESSAGES_REPLY_RATE) + 13 * ((45 - 30) / 120) + 8 * 0.2;
  const base = 30 * ((decayedVisits + 0.8) / (decayedVisits + 1)) + 25 * 0.76 + 20 * 0.6 + 15 * 0.8;
  return {
    features: emptyFeatures({
      registeredAt: Date.UTC(2020, 0, 1),
      lastEngagementAt: ago(45),
      engagementsRecent: 2,
      engagementsPrior: 5,
      firstVisitAt: ago(220),
      lastVisitAt: ago(45),
      completedVisits: 7,
      visitValueCents: 70_000,
      decayedVisits,
      recentAppointments: 5,
    }),
    status: 'dormant',
    risk: round1(risk),
    level: 'low',
    factors: ['No visit for 45 days; usually every 29 days'],
    engagement: round1(base * (0.5 + 0.5 * Math.pow(2, -45 / 180))),
    ltv: { historicalCents: 0, predictedCents: 0, referralCents: 0, totalCents: 0 },
    // P(alive) = 1 / (1 + (gap − 1)) = 1 / gap; no consent: 0.2
    success: (1 / gap) * (0.25 + 0.75 * NO_MESSAGES_REPLY_RATE) * 0.2,
  };
})();

// --- Lena, a new lead gone cold: registered 40 days ago, nothing since → at risk (no appointment history) ---
const lena: Golden = (() => {
  // risk: visitGap from registration: 40 / 90 − 1 < 0 → 0; 2.925; lastContact (40 − 30) / 120 · 13 = 1.083; 1.6
  //       = 5.608 → 5.6
  const risk = 13 * 0.75 * (1 - NO_MESSAGES_REPLY_RATE) + 13 * ((40 - 30) / 120) + 8 * 0.2;
  // engagement: 30 · 0.8 + 25 · 0.76 + 20 · 0.6 + 15 · 0.8 = 67, × 0.5 + 0.5 · 2^(−40/180) = 62.2
  const base = 30 * 0.8 + 25 * 0.76 + 20 * 0.6 + 15 * 0.8;
  return {
    features: emptyFeatures({ registeredAt: ago(40) }),
    status: 'at_risk', // 30 ≤ 40 < 90 without any appointment: a lead going cold
    risk: round1(risk),
    level: 'low',
    factors: [],
    engagement: round1(base * (0.5 + 0.5 * Math.pow(2, -40 / 180))),
    ltv: { historicalCents: 0, predictedCents: 0, referralCents: 0, totalCents: 0 },
    // no visit: P(alive) 0.5
    success: 0.5 * (0.25 + 0.75 * NO_MESSAGES_REPLY_RATE) * 0.2,
  };
})();

const GOLDEN = { lars, ada, dee, dora, lena } as const;
type Name = keyof typeof GOLDEN;

describe('golden patients, computed by hand (docs/scoring.md, "Worked examples")', () => {
  it('the hand-computed values themselves (the figures quoted in docs/scoring.md)', () => {
    expect(Object.fromEntries(Object.entries(GOLDEN).map(([n, g]) => [n, [g.status, g.risk, g.engagement, Math.round(g.success * 1000) / 1000]]))).toEqual({
      lars: ['at_risk', 42.5, 51.6, 0.039],
      ada: ['active', 1.6, 87.4, 0.936],
      dee: ['at_risk', 8.5, 66, 0.362],
      dora: ['dormant', 10.7, 66.2, 0.1],
      lena: ['at_risk', 5.6, 62.2, 0.078],
    });
  });

  describe.each(Object.keys(GOLDEN) as Name[])('through the domain functions: %s', (name) => {
    const g = GOLDEN[name];
    it('status, risk score, level and factors, engagement score, LTV parts, success probability', () => {
      expect(classifyStatus(g.features, NOW)).toBe(g.status);
      const risk = riskScore(g.features, NOW);
      expect(risk.score).toBeCloseTo(g.risk, 2);
      expect(risk.level).toBe(g.level);
      expect(risk.factors).toEqual(g.factors);
      expect(engagementScore(g.features, NOW)).toBeCloseTo(g.engagement, 2);
      expect(lifetimeValue(g.features, NOW, null)).toMatchObject(g.ltv);
      expect(successProbability(g.features, NOW, null)).toBeCloseTo(g.success, 2);
    });
  });

  describe('through the records, the features SQL and the recompute (PostgreSQL)', () => {
    let t: TestApp;
    const ids = {} as Record<Name, string>;

    beforeAll(async () => {
      t = await createTestApp();
      const db = t.db;
      const org = await scoringOrganization(db);
      const at = (days: number): Date => daysAgo(TEST_NOW, days);
      const registered = new Date('2020-01-01T00:00:00Z');

      ids.lars = await patient(db, org, { name: 'Lars Lapsed', registeredAt: registered });
      for (const d of larsVisits) {
        await appointment(db, org, ids.lars, at(d), 'completed', 10_000);
        await payment(db, org, ids.lars, { at: at(d), cents: 10_000 });
      }

      ids.ada = await patient(db, org, { name: 'Ada Engaged', registeredAt: registered, preferredChannel: 'email', marketingConsent: true });
      for (const d of adaVisits) {
        await appointment(db, org, ids.ada, at(d), 'completed', 12_000);
        await payment(db, org, ids.ada, { at: at(d), cents: 12_000 });
      }
      await payment(db, org, ids.ada, { at: at(5), cents: 2_000, kind: 'refund' });
      for (const d of adaEmails) {
        await communication(db, org, ids.ada, { at: at(d), direction: 'outbound', channel: 'email', kind: 'email', respondedAt: new Date(at(d).getTime() + 12 * 3_600_000) });
      }
      await survey(db, org, ids.ada, { at: at(10), satisfaction: 5 });
      await treatmentPlan(db, org, ids.ada, { planned: 10, completed: 5, sessionValueCents: 8_000, status: 'active', startedAt: at(100), endsAt: at(-100) });
      const bob = await patient(db, org, { name: 'Bob Referred', registeredAt: registered });
      await referral(db, org, ids.ada, bob, at(30));
      await payment(db, org, bob, { at: at(25), cents: 50_000 });

      ids.dee = await patient(db, org, { name: 'Dee Declining', registeredAt: registered });
      await db.query(`UPDATE patients SET appointment_reminders = true WHERE id = $1`, [ids.dee]);
      for (const d of deeVisits) await appointment(db, org, ids.dee, at(d), 'completed', 10_000);

      ids.dora = await patient(db, org, { name: 'Dora Dormant', registeredAt: registered });
      await db.query(`UPDATE patients SET appointment_reminders = false WHERE id = $1`, [ids.dora]);
      for (const d of doraVisits) await appointment(db, org, ids.dora, at(d), 'completed', 10_000);
      await appointment(db, org, ids.dora, at(-5), 'cancelled', 10_000);

      ids.lena = await patient(db, org, { name: 'Lena Lead', registeredAt: at(40) });
      for (const id of [ids.lars, ids.ada, ids.dora, ids.lena, bob]) await db.query(`UPDATE patients SET appointment_reminders = false WHERE id = $1`, [id]);

      await t.app.get(ScoringService).recomputePatients(org, [...Object.values(ids), bob]);
    });
    afterAll(() => t.close());

    it.each(Object.keys(GOLDEN) as Name[])('%s: the stored metrics are the hand-computed values', async (name) => {
      const g = GOLDEN[name];
      const m = (await metrics(t.db, ids[name]))!;
      expect(m.status).toBe(g.status);
      expect(m.risk_score).toBeCloseTo(g.risk, 2);
      expect(m.risk_level).toBe(g.level);
      expect(m.risk_factors.map((f) => f.text)).toEqual(g.factors);
      expect(m.engagement_score).toBeCloseTo(g.engagement, 2);
      expect([m.historical_revenue_cents, m.future_value_cents, m.referral_value_cents, m.ltv_cents]).toEqual([
        g.ltv.historicalCents,
        g.ltv.predictedCents,
        g.ltv.referralCents,
        g.ltv.totalCents,
      ]);
      expect(m.success_probability).toBeCloseTo(g.success, 2);
    });
  });
});
