import type { PhiDataKey } from 'src/records/phi/phi-data-key';
import { encryptContact } from 'src/records/phi/patient-contact';
import type { SeedKeys } from 'src/demo-data/seed-keys';
import type { Cadence, ClinicCatalog } from 'src/demo-data/clinic-kinds';
import { writeConsent } from 'src/demo-data/consent-history';
import { copyText, copyTimestamp as ts } from 'src/demo-data/copy-table';
import { ALLERGIES, CALL_NOTES, SEQUENCES, SeedPools, SURVEY_COMMENTS } from 'src/demo-data/seed-catalog';
import { SeedRandom } from 'src/demo-data/seed-random';
import type { ClinicTables } from 'src/demo-data/seed-tables';
import { DAY_MS } from 'src/common/time/calendar';

const DAY = DAY_MS;
const N = '\\N';

export interface HistoryContext {
  rng: SeedRandom;
  pools: SeedPools;
  /** The organization's key and each new patient's data key (the app's envelope encryption). */
  keys: SeedKeys;
  /** The data key of the patient being written. */
  patientKey?: PhiDataKey;
  tables: ClinicTables;
  organizationId: string;
  nowMs: number;
  /** The clinic's kind: its cadences, visit types, conditions, medications and notes. */
  catalog: ClinicCatalog;
}

const cadenceWeights = new WeakMap<ClinicCatalog, (readonly [Cadence, number])[]>();
function weightedCadences(catalog: ClinicCatalog): (readonly [Cadence, number])[] {
  let weights = cadenceWeights.get(catalog);
  if (!weights) cadenceWeights.set(catalog, (weights = catalog.cadences.map((c) => [c, c.weight] as const)));
  return weights;
}

/**
 * Where the patient is in their relationship with the clinic: `lead` registered but never seen, `active` seen in the
 * last weeks, `dormant` one to three months ago, `at_risk` longer ago, `returning` back recently after staying away
 * longer than their rhythm allows (the journey's `reactivated`).
 */
type Lifecycle = 'lead' | 'active' | 'dormant' | 'at_risk' | 'returning';
type Channel = 'phone' | 'sms' | 'email' | 'whatsapp';
type Phase = 'first' | 'course' | 'recurring' | 'follow_up' | 'return';
interface Visit {
  at: number;
  status: 'scheduled' | 'completed' | 'cancelled' | 'no_show';
  type: string;
  phase: Phase;
  valueCents: number;
  /** The course (treatment plan) the visit belongs to, -1 for none. */
  course: number;
}
/** A patient's planned history: the visits, oldest first, and the planned length of each course. */
interface History {
  visits: Visit[];
  coursePlanned: number[];
}

const LIFECYCLES = [['lead', 4], ['active', 41], ['dormant', 20], ['at_risk', 30], ['returning', 5]] as const;
const CHANNELS = [['sms', 35], ['email', 30], ['phone', 20], ['whatsapp', 15]] as const;
const SATISFACTION = [[5, 44], [4, 30], [3, 13], [2, 7], [1, 6]] as const;
const NPS_BY_SATISFACTION: Record<number, [number, number]> = { 1: [0, 3], 2: [2, 5], 3: [5, 7], 4: [7, 9], 5: [9, 10] };

/**
 * Writes one patient and their whole history into the COPY buffers: appointments on the patient's cadence ending
 * where the lifecycle puts the last visit, payments for attended visits, reminders with and without replies, inbound
 * messages and calls, surveys, treatment plans for courses, journey events, automation enrollments, a referral,
 * the consent history (consent-history.ts), and a provisional `patient_metrics` row (stale, so the scoring job recomputes it).
 */
export function writePatient(ctx: HistoryContext, index: number): void {
  const { rng, pools, keys, tables, nowMs, catalog } = ctx;
  const lifecycle = rng.weighted(LIFECYCLES) as Lifecycle;
  const cadence = rng.weighted(weightedCadences(catalog));
  const channel = rng.weighted(CHANNELS) as Channel;
  const reminders = rng.chance(0.85);
  const leadRegisteredAt = nowMs - rng.int(1, 75) * DAY - rng.int(0, 36_000_000);
  // Patients drifting away with trouble: missed appointments at the end, an unpaid bill, an unhappy rating.
  const troubled = (lifecycle === 'at_risk' && rng.chance(0.35)) || (lifecycle === 'dormant' && rng.chance(0.15));
  const history = lifecycle === 'lead' ? planLead(rng, cadence, leadRegisteredAt, nowMs) : planVisits(rng, cadence, lifecycle, troubled, nowMs);
  const visits = history.visits;
  const patientId = tables.patients.peekId();
  const key = keys.patient(patientId);
  ctx.patientKey = key;
  const stored = (table: string, column: string, row: string): { table: string; column: string; row: string } => ({ table, column, row });
  const own = (column: string): { table: string; column: string; row: string } => stored('patients', column, patientId);

  // Identity and PHI.
  const first = rng.pick(pools.firstNames);
  const last = rng.pick(pools.lastNames);
  const name = `${first} ${last}`;
  const email = `${first}.${last}${index % 997}`.toLowerCase().replace(/[^a-z0-9.]/g, '') + `@${rng.pick(pools.emailDomains)}`;
  const phone = `+1${rng.int(201, 989)}${rng.int(200, 999)}${String(rng.int(0, 9999)).padStart(4, '0')}`;
  const dob = new Date(nowMs - rng.int(5 * 365, 90 * 365) * DAY).toISOString().slice(0, 10);
  const place = rng.pick(pools.places);
  const address = { street: `${rng.int(1, 9999)} ${rng.pick(pools.streets)}`, city: place[0], state: place[1], zip: `${place[2]}${rng.int(10, 99)}` };
  const conditions = drawConditions(rng, catalog, cadence);
  const allergies = rng.chance(0.22) ? sample(rng, ALLERGIES, rng.int(1, 2)) : null;
  const medications = rng.chance(0.3) ? sample(rng, catalog.medications, rng.int(1, 2)) : null;
  const registeredAt = lifecycle === 'lead' ? leadRegisteredAt : visits[0].at - rng.int(0, 21) * DAY - rng.int(0, 36_000_000);
  const referrer = index > 50 && rng.chance(0.08) ? tables.patients.idOf(rng.int(0, index - 1)) : null;

  const marketing = rng.chance(0.6);
  const grants = writeConsent(tables.consentDecisions, index, patientId, ts(registeredAt), { marketing, reminders });
  tables.patients.row(
    `${copyText(name)}\t${key.encrypt(phone, own('phone_enc'))}\t${key.encrypt(email, own('email_enc'))}\t${encryptContact(key, patientId, phone, email)}\t` +
      `${key.encrypt(dob, own('date_of_birth_enc'))}\t` +
      `${key.encryptJson(address, own('address_enc'))}\t${key.encryptJson(conditions, own('conditions_enc')) ?? N}\t` +
      `${key.encryptJson(allergies, own('allergies_enc')) ?? N}\t${key.encryptJson(medications, own('medications_enc')) ?? N}\t` +
      `${keys.blindIndex('email', email)}\t${keys.blindIndex('phone', phone)}\t${channel}\t${marketing ? 't' : 'f'}\t` +
      `${reminders ? 't' : 'f'}\t${referrer ?? N}\t${ts(registeredAt)}\t${grants}`,
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
  const finalVisit = troubled ? visits.filter((v) => v.status === 'completed').pop() : undefined;
  for (const v of visits) {
    const note =
      v.status === 'completed' && rng.chance(0.1)
        ? key.encrypt(rng.pick(catalog.appointmentNotes), stored('appointments', 'notes_enc', tables.appointments.peekId()))
        : N;
    tables.appointments.row(`${patientId}\t${ts(v.at)}\t${copyText(v.type)}\t${v.status}\t${v.valueCents}\t${note}`);
    if (v.status === 'scheduled' && (next === 0 || v.at < next)) next = v.at;
    if (v.status === 'completed') {
      completed++;
      lastCompleted = v.at;
      engaged(v.at);
      if (v === finalVisit && nowMs - v.at > 30 * DAY) tables.payments.row(`${patientId}\t${ts(v.at)}\t${v.valueCents}\tcharge\toverdue`);
      else writePayments(ctx, patientId, v, engaged);
      if (v === finalVisit ? rng.chance(0.5) : rng.chance(0.09)) writeSurvey(ctx, patientId, v.at, v === finalVisit ? 'unhappy' : lifecycle, engaged);
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
  const start = visits.length ? Math.min(visits[0].at, registeredAt + DAY) : registeredAt;
  const lastPast = pastVisits.length ? pastVisits[pastVisits.length - 1].at : start;
  const inbound = rng.weighted([[0, 50], [1, 30], [2, 15], [3, 5]] as const);
  for (let k = 0; k < inbound; k++) {
    const at = Math.min(nowMs - 3_600_000, start + rng.next() * (lastPast - start + 3 * DAY));
    const call = rng.chance(0.4);
    const outcome = rng.weighted([['booked', 35], ['question_answered', 35], ['reschedule_request', 15], ['billing_question', 10], ['complaint', 5]] as const);
    const note = call && rng.chance(0.3) ? key.encrypt(rng.pick(CALL_NOTES), stored('communications', 'notes_enc', tables.communications.peekId())) : N;
    tables.communications.row(`${patientId}\t${ts(at)}\t${call ? 'phone' : commChannel}\t${call ? 'call' : commKind}\tinbound\t${N}\t${outcome}\t${note}`);
    engaged(at);
    contacted(at);
  }
  // Outreach to lapsed patients, unanswered.
  if ((lifecycle === 'dormant' || lifecycle === 'at_risk') && rng.chance(0.6)) {
    const outreach = rng.int(1, 3);
    for (let k = 0; k < outreach; k++) {
      const at = lastPast + (30 + rng.int(0, 40) * (k + 1)) * DAY;
      if (at > nowMs) break;
      tables.communications.row(`${patientId}\t${ts(at)}\t${commChannel}\t${commKind}\toutbound\t${N}\tno_reply\t${N}`);
      contacted(at);
    }
  }

  const plans = writePlansAndJourney(ctx, patientId, cadence, lifecycle, history, registeredAt, referrer !== null);
  writeEnrollments(ctx, patientId, lifecycle, registeredAt, lastPast, plans);

  // Provisional metrics by the spec's status rules; `stale` so that the scoring job recomputes everything.
  const days = (nowMs - (lastEngagement || registeredAt)) / DAY;
  const status = next > 0 || days <= 30 ? 'active' : days <= 90 ? 'dormant' : 'at_risk';
  const risk = status === 'active' ? '20\tlow' : status === 'dormant' ? '50\tmedium' : '80\thigh';
  tables.patientMetrics.push(
    `${ctx.organizationId}\t${patientId}\t${copyText(name.toLowerCase())}\t${status}\t${risk}\t${completed}\t` +
      `${lastCompleted ? ts(lastCompleted) : N}\t${next ? ts(next) : N}\t${lastContact ? ts(lastContact) : N}\tt`,
  );
}

/** Most patients of a cadence with typical conditions have one of them; others may have any of the clinic's. */
function drawConditions(rng: SeedRandom, catalog: ClinicCatalog, cadence: Cadence): string[] | null {
  if (cadence.conditions && rng.chance(0.8)) {
    const out = [rng.pick(cadence.conditions)];
    const other = rng.pick(catalog.conditions);
    if (rng.chance(0.25) && !out.includes(other)) out.push(other);
    return out;
  }
  return rng.chance(0.4) ? sample(rng, catalog.conditions, rng.int(1, 2)) : null;
}

const cents = (rng: SeedRandom, range: readonly [number, number]): number => Math.round(rng.int(range[0], range[1]) / 5) * 500;

/** A lead: registered, never seen. Some have their first appointment booked, some missed it, some neither yet. */
function planLead(rng: SeedRandom, cadence: Cadence, registeredAt: number, nowMs: number): History {
  const today = Math.floor(nowMs / DAY) * DAY;
  const slot = (): number => (8 * 4 + rng.int(0, 39)) * 900_000;
  const visits: Visit[] = [];
  const first = (at: number, status: Visit['status']): Visit => ({ at, status, type: cadence.firstType, phase: 'first', valueCents: cents(rng, cadence.firstValue), course: -1 });
  const r = rng.next();
  if (r < 0.65) {
    const missedAt = Math.floor(registeredAt / DAY) * DAY + rng.int(2, 10) * DAY + slot();
    if (r >= 0.45 && missedAt < nowMs) visits.push(first(missedAt, rng.chance(0.5) ? 'no_show' : 'cancelled'));
    if (r < 0.45 || rng.chance(0.4)) visits.push(first(today + rng.int(1, 21) * DAY + slot(), 'scheduled'));
  }
  return { visits, coursePlanned: [] };
}

/**
 * Visit times on the patient's cadence, oldest first: built backwards from the last visit, which the lifecycle puts
 * `gap` days ago (a returning patient's last visit is their return, after an absence longer than their rhythm),
 * through the recurring visits and then the course before them; plus upcoming ones for active patients.
 */
function planVisits(rng: SeedRandom, cadence: Cadence, lifecycle: Exclude<Lifecycle, 'lead'>, troubled: boolean, nowMs: number): History {
  const gapDays =
    lifecycle === 'active' || lifecycle === 'returning' ? rng.int(0, 25) : lifecycle === 'dormant' ? rng.int(32, 85) : 95 + Math.floor(rng.next() ** 2 * 800);
  const today = Math.floor(nowMs / DAY) * DAY;
  const slot = (): number => (8 * 4 + rng.int(0, 39)) * 900_000;
  let at = today - gapDays * DAY + slot();
  if (at > nowMs) at -= DAY;
  const declining = lifecycle === 'at_risk' && rng.chance(0.45);
  const lapsing = lifecycle !== 'active' && lifecycle !== 'returning';
  type Planned = { at: number; type: string; phase: Phase; value: readonly [number, number]; course: number };
  const times: Planned[] = [];
  const upcoming: Planned[] = [];
  const { course, recurring } = cadence;
  const rhythmDays = recurring?.intervalDays ?? course?.intervalDays ?? 90;

  if (lifecycle === 'returning') {
    // Back after staying away well past the journey's lapse threshold for their rhythm (max(90, 2 intervals)).
    const type = recurring?.type ?? cadence.followUpType ?? cadence.firstType;
    const value = recurring?.value ?? cadence.firstValue;
    times.push({ at, type, phase: 'return', value, course: -1 });
    if (rng.chance(0.5)) {
      const due = at + rhythmDays * DAY;
      upcoming.push({ at: due > nowMs ? due : today + rng.int(1, 40) * DAY + slot(), type, phase: 'return', value, course: -1 });
    }
    at -= (Math.max(120, 2.6 * rhythmDays) * (1 + 0.3 * rng.next()) + rng.int(0, 200)) * DAY;
  }

  let recalls = 0;
  if (recurring) {
    recalls = rng.int(recurring.visits[0], recurring.visits[1]);
    if (!course) recalls = Math.max(recalls, 1);
    const interval = recurring.intervalDays;
    for (let k = 0; k < recalls; k++) {
      times.push({ at, type: recurring.type, phase: 'recurring', value: recurring.value, course: -1 });
      at -= rng.jitter(interval * (declining && k < 3 ? 1 + 0.4 * (3 - k) : 1), 0.15) * DAY;
    }
    if (lifecycle === 'active' && recalls > 0 && rng.chance(0.6)) {
      const due = times[0].at + interval * DAY;
      upcoming.push({ at: due > nowMs ? due : today + rng.int(1, 40) * DAY + slot(), type: recurring.type, phase: 'recurring', value: recurring.value, course: -1 });
    }
  }

  const coursePlanned: number[] = [];
  if (course) {
    const courses = course.maxCourses > 1 && rng.chance(0.3) ? 2 : 1;
    for (let c = courses - 1; c >= 0; c--) {
      const length = rng.int(course.sessions[0], course.sessions[1]);
      coursePlanned[c] = length;
      // The latest course, when nothing came after it: in progress for half the active patients, cut short for most
      // lapsed ones (the others finished it and did not come back).
      const latest = c === courses - 1 && recalls === 0 && lifecycle !== 'returning';
      const cut = latest && (lifecycle === 'active' ? rng.chance(0.5) : lapsing && rng.chance(0.6));
      const done = cut ? rng.int(Math.min(2, length - 1), length - 1) : length;
      for (let k = 0; k < done; k++) {
        times.push({ at, type: course.type, phase: 'course', value: course.value, course: c });
        at -= rng.jitter(course.intervalDays * (declining && k < 3 ? 1 + 0.5 * (3 - k) : 1), 0.1) * DAY;
      }
      if (latest && lifecycle === 'active' && done < length) {
        let next = times[times.length - done].at + course.intervalDays * DAY;
        while (next <= nowMs) next += course.intervalDays * DAY;
        for (let k = 0; k < Math.min(length - done, 4); k++) {
          upcoming.push({ at: next + k * course.intervalDays * DAY, type: course.type, phase: 'course', value: course.value, course: c });
        }
      }
      if (c > 0) at -= rng.int(120, 400) * DAY;
    }
  }

  if (!course && !recurring) {
    times.push({ at, type: cadence.followUpType ?? cadence.firstType, phase: 'follow_up', value: cadence.firstValue, course: -1 });
    if (rng.chance(0.3)) times.push({ at: at - rng.int(14, 60) * DAY, type: cadence.firstType, phase: 'first', value: cadence.firstValue, course: -1 });
    if (lifecycle === 'active' && rng.chance(0.35)) {
      upcoming.push({ at: today + rng.int(1, 40) * DAY + slot(), type: cadence.followUpType ?? cadence.firstType, phase: 'follow_up', value: cadence.firstValue, course: -1 });
    }
  }

  times.reverse();
  // The oldest visit is the first appointment (an assessment, a new-patient exam), whatever it was planned as.
  const visits: Visit[] = times.map((t, i) => {
    const lastTwo = i >= times.length - 2 && i > 0;
    const r = rng.next();
    const status: Visit['status'] =
      i === 0 || t.phase === 'return'
        ? 'completed'
        : lastTwo && lapsing && r < (troubled ? 0.7 : 0.3)
          ? r < (troubled ? 0.45 : 0.15)
            ? 'no_show'
            : 'cancelled'
          : r < 0.06
            ? 'no_show'
            : r < 0.14
              ? 'cancelled'
              : 'completed';
    return i === 0
      ? { at: Math.floor(t.at), status, type: cadence.firstType, phase: 'first', valueCents: cents(rng, cadence.firstValue), course: t.course }
      : { at: Math.floor(t.at), status, type: t.type, phase: t.phase, valueCents: cents(rng, t.value), course: t.course };
  });
  for (const u of upcoming) visits.push({ at: Math.floor(u.at), status: 'scheduled', type: u.type, phase: u.phase, valueCents: cents(rng, u.value), course: u.course });
  visits.sort((a, b) => a.at - b.at);
  return { visits, coursePlanned };
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

function writeSurvey(ctx: HistoryContext, patientId: string, visitAt: number, mood: Lifecycle | 'unhappy', engaged: (at: number) => void): void {
  const { rng, tables, patientKey, nowMs } = ctx;
  const at = visitAt + rng.int(1, 72) * 3_600_000;
  if (at > nowMs) return;
  let satisfaction: number = mood === 'unhappy' ? rng.int(1, 2) : rng.weighted(SATISFACTION);
  if (mood === 'at_risk' && satisfaction > 1 && rng.chance(0.3)) satisfaction--;
  const [lo, hi] = NPS_BY_SATISFACTION[satisfaction];
  const complaint = (satisfaction <= 2 && rng.chance(0.6)) || (satisfaction === 3 && rng.chance(0.05));
  const comment =
    rng.chance(0.35) || complaint
      ? (patientKey as PhiDataKey).encrypt(rng.pick(SURVEY_COMMENTS[satisfaction]), {
          table: 'survey_responses',
          column: 'comment_enc',
          row: tables.surveyResponses.peekId(),
        })
      : N;
  tables.surveyResponses.row(`${patientId}\t${ts(at)}\t${satisfaction}\t${rng.chance(0.85) ? rng.int(lo, hi) : N}\t${complaint ? 't' : 'f'}\t${comment}`);
  engaged(at);
}

interface PlanSummary {
  active: boolean;
  completed: boolean;
}

/**
 * A plan still open with sessions left: in progress while sessions are booked (or for an active patient); for a
 * dormant patient the clinic has not closed it half the time (their next session is overdue); else abandoned.
 */
function openPlanStatus(rng: SeedRandom, lifecycle: Lifecycle, booked: boolean): 'active' | 'abandoned' {
  if (booked || lifecycle === 'active') return 'active';
  if (lifecycle === 'dormant') return rng.chance(0.5) ? 'active' : 'abandoned';
  return lifecycle === 'at_risk' && rng.chance(0.1) ? 'active' : 'abandoned';
}

function writePlansAndJourney(
  ctx: HistoryContext,
  patientId: string,
  cadence: Cadence,
  lifecycle: Lifecycle,
  history: History,
  registeredAt: number,
  referred: boolean,
): PlanSummary {
  const { rng, tables, nowMs } = ctx;
  const { visits } = history;
  const journey = (at: number, stage: string, outcome: string): void => {
    if (at <= nowMs) tables.journeyEvents.row(`${patientId}\t${ts(at)}\t${stage}\t${outcome}\t${N}`);
  };
  journey(registeredAt, 'registered', referred ? 'referred_by_patient' : 'new_patient');
  const firstVisit = visits.find((v) => v.status === 'completed');
  if (firstVisit) journey(firstVisit.at, 'first_visit', 'attended');
  const summary: PlanSummary = { active: false, completed: false };
  const plan = (name: string, planned: number, cv: Visit[], intervalDays: number, status: 'active' | 'completed' | 'abandoned'): void => {
    const done = cv.filter((v) => v.status === 'completed').length;
    const startedAt = cv[0].at;
    const past = cv.filter((v) => v.at <= nowMs);
    const lastAt = (past.length ? past[past.length - 1] : cv[0]).at;
    // A completed plan ends at its last session (the journey's moment of completion); the others at their planned end.
    const endsAt = status === 'completed' ? lastAt : startedAt + planned * intervalDays * DAY;
    const title = `${name} (${planned} sessions)`;
    tables.treatmentPlans.row(`${patientId}\t${copyText(title)}\t${planned}\t${Math.min(done, planned)}\t${cv[cv.length - 1].valueCents}\t${status}\t${ts(startedAt)}\t${ts(endsAt)}`);
    journey(startedAt, 'treatment_started', title);
    if (status === 'completed') journey(endsAt, 'treatment_completed', 'completed');
    if (status === 'abandoned') journey(lastAt + 21 * DAY, 'treatment_abandoned', 'stopped_attending');
    summary.active ||= status === 'active';
    summary.completed ||= status === 'completed';
  };
  const { course, recurring } = cadence;
  if (course) {
    for (let c = 0; c < history.coursePlanned.length; c++) {
      const cv = visits.filter((v) => v.course === c);
      if (cv.length === 0) continue;
      const planned = history.coursePlanned[c];
      const booked = cv.some((v) => v.status === 'scheduled');
      const held = cv.filter((v) => v.status !== 'scheduled').length;
      const done = cv.filter((v) => v.status === 'completed').length;
      // Every session held (attended or missed): completed, unless too many were missed.
      const status = !booked && held >= planned ? (done >= planned - 1 ? 'completed' : 'abandoned') : openPlanStatus(rng, lifecycle, booked);
      plan(course.plan, planned, cv, course.intervalDays, status);
    }
  }
  if (recurring?.plan && rng.chance(recurring.plan.share)) {
    const cv = visits.filter((v) => v.phase === 'recurring');
    if (cv.length > 0) {
      const planned = recurring.plan.sessions;
      const done = cv.filter((v) => v.status === 'completed').length;
      const booked = cv.some((v) => v.status === 'scheduled');
      const status = done >= planned ? 'completed' : lifecycle === 'returning' ? 'abandoned' : openPlanStatus(rng, lifecycle, booked);
      plan(recurring.plan.name, planned, cv, recurring.intervalDays, status);
    }
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
  if (lifecycle === 'returning' && rng.chance(0.5)) enroll('reactivation', lastPast - rng.int(20, 60) * DAY, true);
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
