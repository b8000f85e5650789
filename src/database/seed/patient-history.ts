import type { PhiCipherCore } from 'src/records/phi/phi-cipher';
import { copyText, copyTimestamp as ts } from 'src/database/seed/copy-table';
import {
  ALLERGIES,
  APPOINTMENT_NOTES,
  CADENCES,
  CALL_NOTES,
  Cadence,
  CONDITIONS,
  MEDICATIONS,
  SEQUENCES,
  SeedPools,
  SURVEY_COMMENTS,
} from 'src/database/seed/seed-catalog';
import { SeedRandom } from 'src/database/seed/seed-random';
import type { ClinicTables } from 'src/database/seed/seed-tables';

const DAY = 86_400_000;
const N = '\\N';

export interface HistoryContext {
  rng: SeedRandom;
  pools: SeedPools;
  cipher: PhiCipherCore;
  tables: ClinicTables;
  organizationId: string;
  nowMs: number;
}

type Lifecycle = 'active' | 'dormant' | 'at_risk';
type Channel = 'phone' | 'sms' | 'email' | 'whatsapp';
interface Visit {
  at: number;
  status: 'scheduled' | 'completed' | 'cancelled' | 'no_show';
  first: boolean;
  valueCents: number;
  course: number;
}

const CADENCE_WEIGHTS = CADENCES.map((c) => [c, c.weight] as const);
const LIFECYCLES = [['active', 45], ['dormant', 22], ['at_risk', 33]] as const;
const CHANNELS = [['sms', 35], ['email', 30], ['phone', 20], ['whatsapp', 15]] as const;
const SATISFACTION = [[5, 44], [4, 30], [3, 13], [2, 7], [1, 6]] as const;
const NPS_BY_SATISFACTION: Record<number, [number, number]> = { 1: [0, 3], 2: [2, 5], 3: [5, 7], 4: [7, 9], 5: [9, 10] };

/**
 * Writes one patient and their whole history into the COPY buffers: appointments on the patient's cadence ending
 * where the lifecycle puts the last visit, payments for attended visits, reminders with and without replies, inbound
 * messages and calls, surveys, a treatment plan for courses, journey events, automation enrollments, a referral,
 * and a provisional `patient_metrics` row (stale, so the scoring job recomputes it).
 */
export function writePatient(ctx: HistoryContext, index: number): void {
  const { rng, pools, cipher, tables, nowMs } = ctx;
  const lifecycle = rng.weighted(LIFECYCLES) as Lifecycle;
  const cadence = rng.weighted(CADENCE_WEIGHTS);
  const channel = rng.weighted(CHANNELS) as Channel;
  const reminders = rng.chance(0.85);
  const visits = planVisits(rng, cadence, lifecycle, nowMs);
  const patientId = tables.patients.peekId();

  // Identity and PHI.
  const first = rng.pick(pools.firstNames);
  const last = rng.pick(pools.lastNames);
  const name = `${first} ${last}`;
  const email = `${first}.${last}${index % 997}`.toLowerCase().replace(/[^a-z0-9.]/g, '') + `@${rng.pick(pools.emailDomains)}`;
  const phone = `+1${rng.int(201, 989)}${rng.int(200, 999)}${String(rng.int(0, 9999)).padStart(4, '0')}`;
  const dob = new Date(nowMs - rng.int(5 * 365, 90 * 365) * DAY).toISOString().slice(0, 10);
  const place = rng.pick(pools.places);
  const address = { street: `${rng.int(1, 9999)} ${rng.pick(pools.streets)}`, city: place[0], state: place[1], zip: `${place[2]}${rng.int(10, 99)}` };
  const conditions = rng.chance(0.45) ? sample(rng, CONDITIONS, rng.int(1, 3)) : null;
  const allergies = rng.chance(0.22) ? sample(rng, ALLERGIES, rng.int(1, 2)) : null;
  const medications = rng.chance(0.35) ? sample(rng, MEDICATIONS, rng.int(1, 3)) : null;
  const registeredAt = visits[0].at - rng.int(0, 21) * DAY - rng.int(0, 36_000_000);
  const referrer = index > 50 && rng.chance(0.08) ? tables.patients.idOf(rng.int(0, index - 1)) : null;

  tables.patients.row(
    `${copyText(name)}\t${cipher.encrypt(phone)}\t${cipher.encrypt(email)}\t${cipher.encrypt(dob)}\t${cipher.encryptJson(address)}\t` +
      `${cipher.encryptJson(conditions) ?? N}\t${cipher.encryptJson(allergies) ?? N}\t${cipher.encryptJson(medications) ?? N}\t` +
      `${cipher.blindIndex('email', email)}\t${cipher.blindIndex('phone', phone)}\t${channel}\t${rng.chance(0.6) ? 't' : 'f'}\t` +
      `${reminders ? 't' : 'f'}\t${referrer ?? N}\t${ts(registeredAt)}`,
  );
  if (referrer) tables.referrals.row(`${referrer}\t${patientId}\t${ts(registeredAt)}`);

  // Engagement as the scoring service defines it: attended visits, inbound contact, replies, surveys, payments.
  let lastEngagement = 0;
  let lastContact = 0;
  const engaged = (at: number): void => {
    if (at <= nowMs && at > lastEngagement) lastEngagement = at;
  };
  const contacted = (at: number): void => {
    if (at <= nowMs && at > lastContact) lastContact = at;
  };
  const commChannel = channel === 'phone' ? 'sms' : channel;
  const commKind = commChannel === 'email' ? 'email' : 'message';

  let completed = 0;
  let lastCompleted = 0;
  let next = 0;
  for (const v of visits) {
    const note = v.status === 'completed' && rng.chance(0.1) ? cipher.encrypt(rng.pick(APPOINTMENT_NOTES)) : N;
    tables.appointments.row(`${patientId}\t${ts(v.at)}\t${v.first ? cadence.firstType : cadence.type}\t${v.status}\t${v.valueCents}\t${note}`);
    if (v.status === 'scheduled' && (next === 0 || v.at < next)) next = v.at;
    if (v.status === 'completed') {
      completed++;
      lastCompleted = v.at;
      engaged(v.at);
      writePayments(ctx, patientId, v, engaged);
      if (rng.chance(0.09)) writeSurvey(ctx, patientId, v.at, lifecycle, engaged);
    }
    if (reminders && rng.chance(0.45)) {
      const sentAt = v.at - DAY - rng.int(0, 8) * 3_600_000;
      if (sentAt <= nowMs) {
        const replyChance = v.status === 'completed' ? 0.55 : v.status === 'cancelled' ? 0.4 : v.status === 'no_show' ? 0.08 : 0.5;
        const repliedAt = rng.chance(replyChance) ? sentAt + rng.int(5, 300) * 60_000 : 0;
        const replied = repliedAt > 0 && repliedAt <= nowMs;
        const outcome = !replied ? 'no_reply' : v.status === 'cancelled' ? 'cancelled' : 'confirmed';
        tables.communications.row(`${patientId}\t${ts(sentAt)}\t${commChannel}\t${commKind}\toutbound\t${replied ? ts(repliedAt) : N}\t${outcome}\t${N}`);
        contacted(sentAt);
        if (replied) engaged(repliedAt);
      }
    }
  }

  // Inbound messages and calls during the relationship (never after the last visit for lapsed patients).
  const pastVisits = visits.filter((v) => v.at <= nowMs);
  const lastPast = pastVisits.length ? pastVisits[pastVisits.length - 1].at : visits[0].at;
  const inbound = rng.weighted([[0, 50], [1, 30], [2, 15], [3, 5]] as const);
  for (let k = 0; k < inbound; k++) {
    const at = Math.min(nowMs - 3_600_000, visits[0].at + rng.next() * (lastPast - visits[0].at + 3 * DAY));
    const call = rng.chance(0.4);
    const outcome = rng.weighted([['booked', 35], ['question_answered', 35], ['reschedule_request', 15], ['billing_question', 10], ['complaint', 5]] as const);
    const note = call && rng.chance(0.3) ? cipher.encrypt(rng.pick(CALL_NOTES)) : N;
    tables.communications.row(`${patientId}\t${ts(at)}\t${call ? 'phone' : commChannel}\t${call ? 'call' : commKind}\tinbound\t${N}\t${outcome}\t${note}`);
    engaged(at);
    contacted(at);
  }
  // Outreach to lapsed patients, unanswered.
  if (lifecycle !== 'active' && rng.chance(0.6)) {
    const outreach = rng.int(1, 3);
    for (let k = 0; k < outreach; k++) {
      const at = lastPast + (30 + rng.int(0, 40) * (k + 1)) * DAY;
      if (at > nowMs) break;
      tables.communications.row(`${patientId}\t${ts(at)}\t${commChannel}\t${commKind}\toutbound\t${N}\tno_reply\t${N}`);
      contacted(at);
    }
  }

  const plans = writePlansAndJourney(ctx, patientId, cadence, lifecycle, visits, registeredAt, referrer !== null);
  writeEnrollments(ctx, patientId, lifecycle, registeredAt, lastPast, plans);

  // Provisional metrics by the spec's status rules; `stale` so that the scoring job recomputes everything.
  const days = lastEngagement === 0 ? Infinity : (nowMs - lastEngagement) / DAY;
  const status = next > 0 || days <= 30 ? 'active' : days <= 90 ? 'dormant' : 'at_risk';
  const risk = status === 'active' ? '20\tlow' : status === 'dormant' ? '50\tmedium' : '80\thigh';
  tables.patientMetrics.push(
    `${ctx.organizationId}\t${patientId}\t${copyText(name.toLowerCase())}\t${status}\t${risk}\t${completed}\t` +
      `${lastCompleted ? ts(lastCompleted) : N}\t${next ? ts(next) : N}\t${lastContact ? ts(lastContact) : N}\tt`,
  );
}

/** Visit times on the patient's cadence, oldest first, ending `gap` days ago (plus upcoming ones for active patients). */
function planVisits(rng: SeedRandom, cadence: Cadence, lifecycle: Lifecycle, nowMs: number): Visit[] {
  const gapDays = lifecycle === 'active' ? rng.int(0, 25) : lifecycle === 'dormant' ? rng.int(32, 85) : 95 + Math.floor(rng.next() ** 2 * 800);
  const today = Math.floor(nowMs / DAY) * DAY;
  const slot = (): number => (8 * 4 + rng.int(0, 39)) * 900_000;
  let at = today - gapDays * DAY + slot();
  if (at > nowMs) at -= DAY;
  const declining = lifecycle === 'at_risk' && rng.chance(0.45);
  const value = (): number => Math.round(rng.int(cadence.value[0], cadence.value[1]) / 5) * 500;
  const times: { at: number; course: number }[] = [];
  const upcoming: { at: number; course: number }[] = [];
  let interval: number;
  switch (cadence.name) {
    case 'weekly_course': {
      const courses = rng.chance(0.7) ? 1 : 2;
      for (let c = courses - 1; c >= 0; c--) {
        const length = rng.int(8, 16);
        // The latest course: in progress for active patients, cut short for lapsed ones.
        const done = c === courses - 1 && (lifecycle !== 'active' || rng.chance(0.5)) ? rng.int(2, length - 1) : length;
        for (let k = 0; k < done; k++) {
          times.push({ at, course: c });
          at -= rng.jitter(7 * (declining && k < 3 ? 1 + 0.5 * (3 - k) : 1), 0.1) * DAY;
        }
        if (c === courses - 1 && lifecycle === 'active' && done < length) {
          let next = times[0].at + 7 * DAY;
          while (next <= nowMs) next += 7 * DAY;
          for (let k = 0; k < Math.min(length - done, 4); k++) upcoming.push({ at: next + k * 7 * DAY, course: c });
        }
        at -= rng.int(120, 400) * DAY;
      }
      break;
    }
    case 'monthly':
    case 'six_monthly': {
      const count = cadence.name === 'monthly' ? rng.int(6, 20) : rng.int(3, 14);
      interval = cadence.name === 'monthly' ? 30 : 182;
      for (let k = 0; k < count; k++) {
        times.push({ at, course: 0 });
        at -= rng.jitter(interval * (declining && k < 3 ? 1 + 0.4 * (3 - k) : 1), 0.15) * DAY;
      }
      if (lifecycle === 'active' && rng.chance(0.6)) {
        const due = times[0].at + interval * DAY;
        upcoming.push({ at: due > nowMs ? due : today + rng.int(1, 40) * DAY + slot(), course: 0 });
      }
      break;
    }
    case 'one_off': {
      times.push({ at, course: 0 });
      if (rng.chance(0.3)) times.push({ at: at - rng.int(14, 60) * DAY, course: 0 });
      if (lifecycle === 'active' && rng.chance(0.35)) upcoming.push({ at: today + rng.int(1, 40) * DAY + slot(), course: 0 });
      break;
    }
  }
  times.reverse();
  const visits: Visit[] = times.map((t, i) => {
    const lastTwo = i >= times.length - 2 && i > 0;
    const r = rng.next();
    const status: Visit['status'] =
      i === 0 ? 'completed' : lastTwo && lifecycle !== 'active' && r < 0.3 ? (r < 0.15 ? 'no_show' : 'cancelled') : r < 0.06 ? 'no_show' : r < 0.14 ? 'cancelled' : 'completed';
    return { at: Math.floor(t.at), status, first: i === 0, valueCents: i === 0 ? Math.round(value() * 1.3) : value(), course: t.course };
  });
  for (const u of upcoming) visits.push({ at: Math.floor(u.at), status: 'scheduled', first: false, valueCents: value(), course: u.course });
  return visits;
}

function writePayments(ctx: HistoryContext, patientId: string, v: Visit, engaged: (at: number) => void): void {
  const { rng, tables, nowMs } = ctx;
  const ageDays = (nowMs - v.at) / DAY;
  const paidAt = Math.min(nowMs, v.at + rng.int(0, 48) * 3_600_000);
  const r = rng.next();
  if (ageDays < 14 && r < 0.15) {
    tables.payments.row(`${patientId}\t${ts(v.at)}\t${v.valueCents}\tcharge\tpending`);
  } else if (r < 0.04) {
    tables.payments.row(`${patientId}\t${ts(v.at)}\t${v.valueCents}\tcharge\t${ageDays > 30 ? 'overdue' : 'pending'}`);
  } else if (r < 0.07) {
    tables.payments.row(`${patientId}\t${ts(paidAt)}\t${v.valueCents}\tpayment\tfailed`);
    const retryAt = paidAt + rng.int(3, 10) * DAY;
    if (rng.chance(0.7) && retryAt <= nowMs) {
      tables.payments.row(`${patientId}\t${ts(retryAt)}\t${v.valueCents}\tpayment\tpaid`);
      engaged(retryAt);
    }
  } else {
    tables.payments.row(`${patientId}\t${ts(paidAt)}\t${v.valueCents}\tpayment\tpaid`);
    engaged(paidAt);
    const refundAt = paidAt + rng.int(2, 20) * DAY;
    if (rng.chance(0.012) && refundAt <= nowMs) {
      tables.payments.row(`${patientId}\t${ts(refundAt)}\t${rng.chance(0.5) ? v.valueCents : Math.round(v.valueCents / 2)}\trefund\trefunded`);
    }
  }
}

function writeSurvey(ctx: HistoryContext, patientId: string, visitAt: number, lifecycle: Lifecycle, engaged: (at: number) => void): void {
  const { rng, tables, cipher, nowMs } = ctx;
  const at = visitAt + rng.int(1, 72) * 3_600_000;
  if (at > nowMs) return;
  let satisfaction: number = rng.weighted(SATISFACTION);
  if (lifecycle === 'at_risk' && satisfaction > 1 && rng.chance(0.3)) satisfaction--;
  const [lo, hi] = NPS_BY_SATISFACTION[satisfaction];
  const complaint = (satisfaction <= 2 && rng.chance(0.6)) || (satisfaction === 3 && rng.chance(0.05));
  const comment = rng.chance(0.35) || complaint ? cipher.encrypt(rng.pick(SURVEY_COMMENTS[satisfaction])) : N;
  tables.surveyResponses.row(`${patientId}\t${ts(at)}\t${satisfaction}\t${rng.chance(0.85) ? rng.int(lo, hi) : N}\t${complaint ? 't' : 'f'}\t${comment}`);
  engaged(at);
}

interface PlanSummary {
  active: boolean;
  completed: boolean;
}

function writePlansAndJourney(ctx: HistoryContext, patientId: string, cadence: Cadence, lifecycle: Lifecycle, visits: Visit[], registeredAt: number, referred: boolean): PlanSummary {
  const { rng, tables, nowMs } = ctx;
  const journey = (at: number, stage: string, outcome: string): void => {
    if (at <= nowMs) tables.journeyEvents.row(`${patientId}\t${ts(at)}\t${stage}\t${outcome}\t${N}`);
  };
  journey(registeredAt, 'registered', referred ? 'referred_by_patient' : 'new_patient');
  const firstVisit = visits.find((v) => v.status === 'completed');
  if (firstVisit) journey(firstVisit.at, 'first_visit', 'attended');
  const summary: PlanSummary = { active: false, completed: false };
  if (cadence.name === 'weekly_course' || (cadence.name === 'monthly' && rng.chance(0.5))) {
    const courses = new Set(visits.map((v) => v.course));
    for (const course of [...courses].sort()) {
      const cv = visits.filter((v) => v.course === course);
      const done = cv.filter((v) => v.status === 'completed').length;
      const scheduled = cv.filter((v) => v.status === 'scheduled').length;
      const planned = cadence.name === 'monthly' ? 12 : cv.length + (scheduled > 0 ? rng.int(0, 2) : 0);
      const inProgress = scheduled > 0 || (lifecycle === 'active' && cadence.name === 'monthly');
      const status = inProgress ? 'active' : done >= planned - 1 && cadence.name === 'weekly_course' ? 'completed' : 'abandoned';
      const startedAt = cv[0].at;
      const endsAt = startedAt + planned * (cadence.name === 'monthly' ? 30 : 7) * DAY;
      const name = cadence.name === 'monthly' ? 'Maintenance plan (12 sessions)' : `Physiotherapy course (${planned} sessions)`;
      tables.treatmentPlans.row(`${patientId}\t${name}\t${planned}\t${done}\t${cv[cv.length - 1].valueCents}\t${status}\t${ts(startedAt)}\t${ts(endsAt)}`);
      journey(startedAt, 'treatment_started', name);
      if (status === 'completed') journey(cv[cv.length - 1].at, 'treatment_completed', 'completed');
      if (status === 'abandoned') journey(cv[cv.length - 1].at + 21 * DAY, 'treatment_abandoned', 'stopped_attending');
      summary.active ||= status === 'active';
      summary.completed ||= status === 'completed';
    }
  }
  if (lifecycle === 'at_risk') {
    const lastPast = visits.filter((v) => v.at <= nowMs).pop();
    if (lastPast) journey(lastPast.at + 90 * DAY, 'lapsed', 'no_engagement_90_days');
  }
  return summary;
}

function writeEnrollments(ctx: HistoryContext, patientId: string, lifecycle: Lifecycle, registeredAt: number, lastPast: number, plans: PlanSummary): void {
  const { rng, tables, nowMs } = ctx;
  const enroll = (sequence: keyof typeof SEQUENCES, enrolledAt: number, finished: boolean): void => {
    const steps = SEQUENCES[sequence];
    const stepIndex = finished ? steps.length - 1 : rng.int(0, steps.length - 2);
    const status = finished ? (rng.chance(0.85) ? 'completed' : 'cancelled') : rng.chance(0.9) ? 'active' : 'paused';
    const nextAt = status === 'active' ? ts(nowMs + rng.int(1, 10) * DAY + rng.int(8, 17) * 3_600_000) : N;
    const nextAction = status === 'active' ? steps[stepIndex + 1] : N;
    tables.automationEnrollments.row(
      `${patientId}\t${sequence}\t${steps[stepIndex]}\t${stepIndex}\t${steps.length}\t${nextAction}\t${nextAt}\t${status}\t${ts(Math.min(enrolledAt, nowMs))}`,
    );
  };
  if (nowMs - registeredAt < 60 * DAY) enroll('onboarding', registeredAt, nowMs - registeredAt > 30 * DAY);
  if (lifecycle === 'at_risk' && rng.chance(0.55)) enroll('reactivation', lastPast + rng.int(90, 120) * DAY, rng.chance(0.3));
  if (lifecycle === 'dormant' && rng.chance(0.35)) enroll('recall', lastPast + rng.int(30, 45) * DAY, false);
  if (plans.completed && rng.chance(0.3)) enroll('followUp', lastPast + DAY, true);
}

function sample<T>(rng: SeedRandom, items: readonly T[], n: number): T[] {
  const out: T[] = [];
  while (out.length < n) {
    const item = rng.pick(items);
    if (!out.includes(item)) out.push(item);
  }
  return out;
}
