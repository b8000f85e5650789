/**
 * The kinds of clinic the seed can generate. One organization is one kind: its visit types, treatment plans,
 * conditions, medications and notes all come from that kind's catalog, so a dental clinic never shows a rotator-cuff
 * tendinopathy beside its check-ups. Visit types and conditions are each kind's own (no two kinds share one).
 */

export const CLINIC_KINDS = ['dental', 'physiotherapy', 'primary_care'] as const;
export type ClinicKind = (typeof CLINIC_KINDS)[number];

/** The kind the demo organization and `npm run seed` generate unless told otherwise. */
export const DEFAULT_CLINIC_KIND: ClinicKind = 'dental';

export const isClinicKind = (s: string): s is ClinicKind => (CLINIC_KINDS as readonly string[]).includes(s);

/** A course of care: sessions every `intervalDays` days, under a treatment plan named `plan (N sessions)`. */
export interface CoursePhase {
  type: string;
  intervalDays: number;
  sessions: [number, number];
  /** Value range of one session, in whole currency units. */
  value: [number, number];
  plan: string;
  /** Up to this many courses (separated by months) for one patient. */
  maxCourses: number;
}

/** Visits that recur every `intervalDays` days: recalls, check-ups, reviews, maintenance sessions. */
export interface RecurringPhase {
  type: string;
  intervalDays: number;
  /** Past visits of a patient on this rhythm (after any course). */
  visits: [number, number];
  value: [number, number];
  /** A plan covering the recurring visits (e.g. orthodontic adjustments), for this share of patients. */
  plan?: { name: string; sessions: number; share: number };
}

/** A kind of patient relationship: how often they come and what they come for. */
export interface Cadence {
  name: string;
  weight: number;
  /** The first appointment's type (also a lead's booked first appointment). */
  firstType: string;
  /** Value range of the first appointment. */
  firstValue: [number, number];
  /** A course first (e.g. a restorative plan), then the recurring visits, if any. */
  course?: CoursePhase;
  recurring?: RecurringPhase;
  /** Neither: a one-off visit, sometimes with one follow-up of this type. */
  followUpType?: string;
  /** Conditions typical of the cadence: most of its patients have one of them. */
  conditions?: readonly string[];
}

export interface ClinicCatalog {
  kind: ClinicKind;
  /** "Dental clinic": a default organization name. */
  label: string;
  cadences: readonly Cadence[];
  conditions: readonly string[];
  medications: readonly string[];
  appointmentNotes: readonly string[];
}

const DENTAL: ClinicCatalog = {
  kind: 'dental',
  label: 'Dental clinic',
  cadences: [
    {
      name: 'recall',
      weight: 44,
      firstType: 'New patient exam',
      firstValue: [120, 220],
      recurring: { type: 'Check-up and cleaning', intervalDays: 182, visits: [1, 13], value: [110, 220] },
    },
    {
      name: 'restorative_then_recall',
      weight: 20,
      firstType: 'New patient exam',
      firstValue: [120, 220],
      course: { type: 'Restorative treatment', intervalDays: 14, sessions: [2, 5], value: [150, 650], plan: 'Restorative treatment plan', maxCourses: 1 },
      recurring: { type: 'Check-up and cleaning', intervalDays: 182, visits: [0, 8], value: [110, 220] },
      conditions: ['Dental caries', 'Cracked tooth', 'Enamel erosion'],
    },
    {
      name: 'orthodontic',
      weight: 9,
      firstType: 'Orthodontic consultation',
      firstValue: [150, 250],
      recurring: { type: 'Orthodontic adjustment', intervalDays: 42, visits: [4, 18], value: [90, 180], plan: { name: 'Orthodontic treatment', sessions: 18, share: 1 } },
      conditions: ['Malocclusion', 'Crowded teeth'],
    },
    {
      name: 'periodontal',
      weight: 9,
      firstType: 'Periodontal assessment',
      firstValue: [160, 260],
      recurring: { type: 'Periodontal maintenance', intervalDays: 91, visits: [2, 12], value: [130, 260] },
      conditions: ['Periodontitis', 'Gingivitis'],
    },
    {
      name: 'emergency',
      weight: 18,
      firstType: 'Emergency dental visit',
      firstValue: [120, 350],
      followUpType: 'Emergency follow-up',
      conditions: ['Dental abscess', 'Cracked tooth', 'Impacted wisdom tooth', 'Tooth sensitivity'],
    },
  ],
  conditions: [
    'Dental caries', 'Gingivitis', 'Periodontitis', 'Tooth sensitivity', 'Bruxism', 'Malocclusion', 'Crowded teeth',
    'Temporomandibular joint disorder', 'Impacted wisdom tooth', 'Dry mouth', 'Enamel erosion', 'Missing teeth',
    'Cracked tooth', 'Dental abscess',
  ],
  medications: [
    'Chlorhexidine mouthwash 0.12%', 'Fluoride toothpaste 5000 ppm', 'Amoxicillin 500 mg', 'Ibuprofen 400 mg as needed',
    'Paracetamol 500 mg as needed', 'Warfarin 5 mg', 'Alendronate 70 mg weekly', 'Lisinopril 10 mg', 'Metformin 500 mg',
    'Levothyroxine 50 mcg',
  ],
  appointmentNotes: [
    'Discussed flossing technique.', 'Mild gingival inflammation; review at the next check-up.', 'Bitewing X-rays taken.',
    'Small cavity on a lower molar; filling planned.', 'Patient anxious about treatment; reassured.', 'Scale and polish completed.',
    'Night guard recommended for grinding.', 'Sensitivity reported; desensitising toothpaste advised.', 'Aligner fit checked.',
    'Pocket depths improved since the last visit.',
  ],
};

const PHYSIOTHERAPY: ClinicCatalog = {
  kind: 'physiotherapy',
  label: 'Physiotherapy clinic',
  cadences: [
    {
      name: 'course',
      weight: 38,
      firstType: 'Initial assessment',
      firstValue: [95, 160],
      course: { type: 'Physiotherapy session', intervalDays: 7, sessions: [6, 16], value: [85, 140], plan: 'Physiotherapy course', maxCourses: 2 },
    },
    {
      name: 'course_then_maintenance',
      weight: 14,
      firstType: 'Initial assessment',
      firstValue: [95, 160],
      course: { type: 'Physiotherapy session', intervalDays: 7, sessions: [6, 12], value: [85, 140], plan: 'Physiotherapy course', maxCourses: 1 },
      recurring: { type: 'Maintenance session', intervalDays: 30, visits: [1, 10], value: [70, 120] },
    },
    {
      name: 'maintenance',
      weight: 16,
      firstType: 'Initial assessment',
      firstValue: [95, 160],
      recurring: { type: 'Maintenance session', intervalDays: 30, visits: [5, 20], value: [70, 120], plan: { name: 'Maintenance plan', sessions: 12, share: 0.5 } },
      conditions: ['Chronic lower back pain', 'Osteoarthritis of the knee', 'Neck pain'],
    },
    {
      name: 'one_off',
      weight: 22,
      firstType: 'Consultation',
      firstValue: [90, 150],
      followUpType: 'Follow-up consultation',
    },
    {
      name: 'sports_check',
      weight: 10,
      firstType: 'Sports injury assessment',
      firstValue: [100, 170],
      recurring: { type: 'Sports check-in', intervalDays: 91, visits: [2, 10], value: [80, 130] },
      conditions: ['Ankle sprain', 'ACL reconstruction rehabilitation', 'Hamstring strain'],
    },
  ],
  conditions: [
    'Chronic lower back pain', 'Rotator cuff tendinopathy', 'Osteoarthritis of the knee', 'Sciatica', 'Plantar fasciitis',
    'Tennis elbow', 'ACL reconstruction rehabilitation', 'Ankle sprain', 'Neck pain', 'Frozen shoulder', 'Carpal tunnel syndrome',
    'Hip replacement rehabilitation', 'Hamstring strain',
  ],
  medications: [
    'Ibuprofen 400 mg as needed', 'Paracetamol 1 g as needed', 'Naproxen 250 mg', 'Diclofenac gel 1%', 'Cyclobenzaprine 10 mg',
    'Gabapentin 300 mg', 'Amlodipine 5 mg', 'Atorvastatin 20 mg',
  ],
  appointmentNotes: [
    'Range of motion improved since last visit.', 'Patient reports less pain at night.', 'Home exercises reviewed.',
    'Progressing as planned.', 'Adjusted treatment intensity.', 'Reports flare-up after travel.',
    'Strength on the affected side still reduced.', 'Taping applied; review next session.', 'Gait retraining started.',
    'Return-to-sport plan discussed.',
  ],
};

const PRIMARY_CARE: ClinicCatalog = {
  kind: 'primary_care',
  label: 'Primary care practice',
  cadences: [
    {
      name: 'annual',
      weight: 30,
      firstType: 'New patient visit',
      firstValue: [140, 240],
      recurring: { type: 'Annual physical', intervalDays: 365, visits: [1, 7], value: [120, 220] },
    },
    {
      name: 'chronic_care',
      weight: 28,
      firstType: 'New patient visit',
      firstValue: [140, 240],
      recurring: { type: 'Chronic care review', intervalDays: 91, visits: [3, 16], value: [90, 160] },
      conditions: ['Hypertension', 'Type 2 diabetes', 'Asthma', 'COPD', 'Hypothyroidism', 'Hyperlipidemia'],
    },
    {
      name: 'acute',
      weight: 32,
      firstType: 'Same-day visit',
      firstValue: [80, 180],
      followUpType: 'Follow-up visit',
    },
    {
      name: 'wound_care',
      weight: 10,
      firstType: 'Same-day visit',
      firstValue: [80, 180],
      course: { type: 'Wound care visit', intervalDays: 7, sessions: [3, 6], value: [60, 110], plan: 'Wound care plan', maxCourses: 1 },
      conditions: ['Leg ulcer', 'Post-surgical wound'],
    },
  ],
  conditions: [
    'Hypertension', 'Type 2 diabetes', 'Asthma', 'Hypothyroidism', 'Hyperlipidemia', 'GERD', 'Anxiety disorder', 'Depression',
    'Migraine', 'COPD', 'Obesity', 'Osteoporosis', 'Leg ulcer', 'Post-surgical wound',
  ],
  medications: [
    'Lisinopril 10 mg', 'Metformin 500 mg', 'Atorvastatin 20 mg', 'Levothyroxine 50 mcg', 'Albuterol inhaler', 'Sertraline 50 mg',
    'Omeprazole 20 mg', 'Amlodipine 5 mg', 'Sumatriptan 50 mg', 'Tiotropium inhaler',
  ],
  appointmentNotes: [
    'Blood pressure 132/84; continue the current dose.', 'HbA1c ordered.', 'Medication reviewed; no changes.',
    'Advised on diet and exercise.', 'Referred for an X-ray.', 'Flu vaccine given.', 'Follow up in three months.',
    'Lab results discussed.', 'Dressing changed; wound healing well.', 'Inhaler technique reviewed.',
  ],
};

export const CLINIC_CATALOGS: Readonly<Record<ClinicKind, ClinicCatalog>> = {
  dental: DENTAL,
  physiotherapy: PHYSIOTHERAPY,
  primary_care: PRIMARY_CARE,
};

/** Every appointment type a clinic of this kind can have. */
export function visitTypes(catalog: ClinicCatalog): string[] {
  const types = new Set<string>();
  for (const c of catalog.cadences) {
    types.add(c.firstType);
    if (c.course) types.add(c.course.type);
    if (c.recurring) types.add(c.recurring.type);
    if (c.followUpType) types.add(c.followUpType);
  }
  return [...types];
}

/** Every treatment plan name a clinic of this kind can have (`<plan> (N sessions)`, as a pattern). */
export function planNamePattern(catalog: ClinicCatalog): RegExp {
  const names = catalog.cadences.flatMap((c) => [c.course?.plan, c.recurring?.plan?.name]).filter((n): n is string => n !== undefined);
  const escaped = [...new Set(names)].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^(${escaped.join('|')}) \\(\\d+ sessions\\)$`);
}
