import type { BatchTenantConnection } from 'src/database/tenant/batch-tenant-connection';
import { scoringSettings } from 'src/scoring/domain/scoring-settings';
import type { FeatureRow } from 'src/scoring/features/feature-row';
import { FeaturesRepository } from 'src/scoring/features/features.repository';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';
import {
  appointment,
  communication,
  daysAgo,
  patient,
  payment,
  referral,
  scoringOrganization,
  survey,
  tenantConnection,
  treatmentPlan,
} from 'test/scoring/scoring-fixtures';

const NOW = new Date('2026-11-24T12:00:00.000Z');
const DAY = 86_400_000;
/** Recency weight with the default 180-day half-life. */
const w = (days: number, halfLife = 180): number => Math.pow(2, -days / halfLife);

/** The features SQL against values computed by hand for one handmade patient. */
describe('features query', () => {
  let db: TestDatabase;
  /** The organization's own connection, as the runtime role (row-level security), as an organization-wide run reads. */
  let client: BatchTenantConnection;
  const repo = new FeaturesRepository();
  let org: string;
  let alice: string;
  let bob: string;
  let empty: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    org = await scoringOrganization(db);
    client = await tenantConnection(db.url, org);
    alice = await patient(db, org, { name: 'Alice Example', registeredAt: new Date('2020-01-01T00:00:00Z'), preferredChannel: 'email', marketingConsent: true });
    bob = await patient(db, org, { name: 'Bob Referred' });
    empty = await patient(db, org, { name: 'Nobody Yet', registeredAt: daysAgo(NOW, 3) });
    await appointment(db, org, alice, daysAgo(NOW, 10), 'completed', 10_000);
    await appointment(db, org, alice, daysAgo(NOW, 100), 'completed', 20_000);
    await appointment(db, org, alice, daysAgo(NOW, 50), 'no_show');
    await appointment(db, org, alice, daysAgo(NOW, 200), 'cancelled');
    await appointment(db, org, alice, daysAgo(NOW, -5), 'scheduled');
    await communication(db, org, alice, { at: daysAgo(NOW, 20), direction: 'outbound', channel: 'email', kind: 'email', respondedAt: new Date(daysAgo(NOW, 20).getTime() + 2 * 3_600_000) });
    await communication(db, org, alice, { at: daysAgo(NOW, 40), direction: 'outbound', channel: 'sms' });
    await communication(db, org, alice, { at: daysAgo(NOW, 15), direction: 'inbound', channel: 'phone', kind: 'call' });
    await payment(db, org, alice, { at: daysAgo(NOW, 10), cents: 10_000 });
    await payment(db, org, alice, { at: daysAgo(NOW, 5), cents: 2_000, kind: 'refund' });
    await payment(db, org, alice, { at: daysAgo(NOW, 30), cents: 5_000, status: 'failed' });
    await payment(db, org, alice, { at: daysAgo(NOW, 60), cents: 3_000, kind: 'charge', status: 'overdue' });
    await survey(db, org, alice, { at: daysAgo(NOW, 12), satisfaction: 4 });
    await survey(db, org, alice, { at: daysAgo(NOW, 300), satisfaction: 2, complaint: true });
    await referral(db, org, alice, bob, daysAgo(NOW, 100));
    await payment(db, org, bob, { at: daysAgo(NOW, 90), cents: 50_000 });
    await treatmentPlan(db, org, alice, { planned: 10, completed: 3, sessionValueCents: 8_000, status: 'active', startedAt: daysAgo(NOW, 60), endsAt: daysAgo(NOW, -60) });
    await treatmentPlan(db, org, alice, { planned: 6, completed: 2, sessionValueCents: 8_000, status: 'abandoned', startedAt: daysAgo(NOW, 300), endsAt: daysAgo(NOW, 200) });
    for (const [days, score] of [[40, 30], [20, 50]] as const) {
      await db.query(`INSERT INTO risk_score_history (organization_id, patient_id, recorded_on, risk_score) VALUES ($1, $2, $3, $4)`, [
        org,
        alice,
        daysAgo(NOW, days).toISOString().slice(0, 10),
        score,
      ]);
    }
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  const load = async (ids: string[], settings = scoringSettings()): Promise<Map<string, FeatureRow>> => {
    const rows = await repo.features(client, { kind: 'ids', ids }, NOW, settings, 'UTC');
    return new Map(rows.map((r) => [r.patientId, r]));
  };

  it('computes every feature of the handmade patient as documented', async () => {
    const f = (await load([alice])).get(alice)!;
    const t = NOW.getTime();
    expect(f).toMatchObject({
      sortName: 'alice example',
      preferredChannel: 'email',
      registeredAt: Date.parse('2020-01-01T00:00:00Z'),
      marketingConsent: true,
      appointmentReminders: true,
      lastEngagementAt: t - 10 * DAY,
      engagementsRecent: 5, // visit 10 d, call 15 d, reply ~20 d, survey 12 d, payment 10 d
      engagementsPrior: 1, // visit 100 d (the 300-day survey is outside 90..270)
      nextAppointmentAt: t + 5 * DAY,
      firstVisitAt: t - 100 * DAY,
      lastVisitAt: t - 10 * DAY,
      completedVisits: 2,
      visitValueCents: 30_000,
      recentAppointments: 4,
      recentNoShows: 1,
      recentCancellations: 1,
      avgReplyHours: 2,
      netRevenueCents: 8_000,
      overduePayments: 1,
      complaints: 1,
      referralsMade: 1,
      referredNetRevenueCents: 50_000,
      activePlanRemainingValueCents: 56_000,
      abandonedPlans: 1,
      planSessionsDone: 5,
      lastContactAt: t - 10 * DAY,
      previousRiskScore: 30,
      lastRecordedRiskScore: 50,
      hasMetrics: null, // looked up for range selections only
    });
    expect(f.decayedVisits).toBeCloseTo(w(10) + w(100), 9);
    expect(f.decayedNoShows).toBeCloseTo(w(50), 9);
    expect(f.decayedCancellations).toBeCloseTo(w(200), 9);
    expect(f.decayedOutreach).toBeCloseTo(w(20) + w(40), 9);
    expect(f.decayedReplies).toBeCloseTo(w(20), 9);
    expect(f.preferredChannelOutreach).toBeCloseTo(w(20), 9);
    expect(f.preferredChannelReplies).toBeCloseTo(w(20), 9);
    expect(f.decayedFailedPayments).toBeCloseTo(w(30), 9);
    expect(f.weightedSatisfaction).toBeCloseTo((4 * w(12) + 2 * w(300)) / (w(12) + w(300)), 9);
    expect(f.decayedComplaints).toBeCloseTo(w(300), 9);
    expect(f.activePlanSessionsBehind).toBeCloseTo(2, 9); // half way through 10 planned sessions, 3 done
    expect(f.planSessionsDue).toBeCloseTo(11, 9); // 5 expected so far + 6 of the abandoned plan
  });

  it('gives a patient without records the documented defaults', async () => {
    const f = (await load([empty])).get(empty)!;
    expect(f).toMatchObject({
      registeredAt: NOW.getTime() - 3 * DAY,
      lastEngagementAt: null,
      engagementsRecent: 0,
      engagementsPrior: 0,
      nextAppointmentAt: null,
      firstVisitAt: null,
      lastVisitAt: null,
      completedVisits: 0,
      visitValueCents: 0,
      decayedVisits: 0,
      recentAppointments: 0,
      avgReplyHours: null,
      weightedSatisfaction: null,
      netRevenueCents: 0,
      referralsMade: 0,
      planSessionsDue: 0,
      lastContactAt: null,
      previousRiskScore: null,
      lastRecordedRiskScore: null,
    });
  });

  it('sends recorded scores as their one-decimal values (real, not widened to float8)', async () => {
    await db.query(`INSERT INTO risk_score_history (organization_id, patient_id, recorded_on, risk_score) VALUES ($1, $2, $3, 40.3)`, [
      org,
      empty,
      daysAgo(NOW, 1).toISOString().slice(0, 10),
    ]);
    try {
      const f = (await load([empty])).get(empty)!;
      expect(f.lastRecordedRiskScore).toBe(40.3);
      expect(f.previousRiskScore).toBe(40.3); // the earliest since the window start, before today
    } finally {
      await db.query(`DELETE FROM risk_score_history WHERE patient_id = $1`, [empty]);
    }
  });

  it('the organization-wide referral revenue and the fit sample read what the features query computes', async () => {
    const referred = await repo.referredNetRevenue(client, NOW);
    expect([...referred]).toEqual([[alice, 50_000]]);
    const withoutReferred = await repo.features(client, { kind: 'ids', ids: [alice] }, NOW, scoringSettings(), 'UTC', { referredNet: false });
    expect(withoutReferred[0]).toEqual({ ...(await load([alice])).get(alice), referredNetRevenueCents: 0 });
    const fitRows = await repo.visitHistories(client, [alice, bob, empty], NOW);
    const f = (await load([alice])).get(alice)!;
    expect(fitRows).toEqual([
      {
        id: alice,
        features: expect.objectContaining({ firstVisitAt: f.firstVisitAt, lastVisitAt: f.lastVisitAt, completedVisits: 2, visitValueCents: 30_000 }),
      },
    ]);
  });

  it('the range selector covers the organization and agrees with the id selector', async () => {
    const rows = await repo.features(client, { kind: 'range', from: null, to: null }, NOW, scoringSettings(), 'UTC');
    expect(rows.map((r) => r.patientId).sort()).toEqual([alice, bob, empty].sort());
    expect(rows.find((r) => r.patientId === alice)).toEqual({ ...(await load([alice])).get(alice), hasMetrics: false });
  });

  it('applies the half-life and the decline windows of the settings', async () => {
    const f = (await load([alice], scoringSettings({ decayHalfLifeDays: 30, declineRecentWindowDays: 11 }))).get(alice)!;
    expect(f.decayedVisits).toBeCloseTo(w(10, 30) + w(100, 30), 9);
    expect(f.engagementsRecent).toBe(2); // the visit and the payment 10 days ago
  });

  it('leaves out soft-deleted patients and other organizations', async () => {
    const other = await scoringOrganization(db);
    const stranger = await patient(db, other);
    const gone = await patient(db, org, { deletedAt: daysAgo(NOW, 1) });
    const rows = await load([alice, stranger, gone]);
    expect([...rows.keys()]).toEqual([alice]);
  });

  it('counts engagement in the recent window (age < 90 days) and the prior one (90 ≤ age < 270), edges included as documented', async () => {
    // An organization of its own: the other tests count the patients of theirs.
    const own = await scoringOrganization(db);
    const edges = await patient(db, own, { name: 'Window Edges' });
    const at = (days: number): Date => new Date(NOW.getTime() - days * DAY);
    // 89.99 → recent; exactly 90 → prior; 269.99 → prior; exactly 270 → neither; a future visit → neither.
    for (const days of [89.99, 90, 269.99, 270, -3]) await appointment(db, own, edges, at(days), 'completed', 1_000);
    const ownClient = await tenantConnection(db.url, own);
    try {
      const load = async (_ids: string[], settings = scoringSettings()): Promise<Map<string, FeatureRow>> =>
        new Map((await repo.features(ownClient, { kind: 'ids', ids: [edges] }, NOW, settings, 'UTC')).map((r) => [r.patientId, r]));
      const row = (await load([edges])).get(edges)!;
      expect([row.engagementsRecent, row.engagementsPrior]).toEqual([1, 2]);
      // The windows follow the settings: a 100-day recent window takes 90 in, a 160-day prior one (100-260) drops 269.99.
      const moved = (await load([edges], scoringSettings({ declineRecentWindowDays: 100, declinePriorWindowDays: 160 }))).get(edges)!;
      expect([moved.engagementsRecent, moved.engagementsPrior]).toEqual([2, 0]);
    } finally {
      await ownClient.end();
    }
  });
});
