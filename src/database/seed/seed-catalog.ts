import { faker } from '@faker-js/faker';

/** Names and places drawn once from faker with the seed; per-patient values are combined from these pools. */
export interface SeedPools {
  firstNames: string[];
  lastNames: string[];
  streets: string[];
  /** `[city, state, zip prefix]` */
  places: [string, string, string][];
  emailDomains: string[];
}

const clean = (s: string): string => s.replace(/[\\\t\n\r]/g, ' ');

export function buildPools(seed: number): SeedPools {
  faker.seed(seed);
  const unique = (make: () => string, n: number): string[] => [...new Set(Array.from({ length: n }, make))].map(clean);
  return {
    firstNames: unique(() => faker.person.firstName(), 3000),
    lastNames: unique(() => faker.person.lastName(), 3000),
    streets: unique(() => faker.location.street(), 2000),
    places: Array.from({ length: 400 }, () => [clean(faker.location.city()), faker.location.state({ abbreviated: true }), faker.string.numeric(3)] as [string, string, string]),
    emailDomains: ['gmail.com', 'yahoo.com', 'outlook.com', 'icloud.com', 'hotmail.com', 'proton.me', ...unique(() => faker.internet.domainName(), 20)],
  };
}

export const CONDITIONS = [
  'Hypertension', 'Type 2 diabetes', 'Asthma', 'Chronic lower back pain', 'Osteoarthritis', 'Migraine',
  'Anxiety disorder', 'Hypothyroidism', 'Hyperlipidemia', 'Plantar fasciitis', 'Rotator cuff tendinopathy',
  'Periodontitis', 'GERD', 'Fibromyalgia', 'Sciatica', 'Tension headache', 'Scoliosis', 'Carpal tunnel syndrome',
];
export const ALLERGIES = ['Penicillin', 'Latex', 'Peanuts', 'Sulfa drugs', 'Ibuprofen', 'Shellfish', 'Pollen', 'Codeine', 'Bee stings', 'Lidocaine'];
export const MEDICATIONS = [
  'Lisinopril 10 mg', 'Metformin 500 mg', 'Atorvastatin 20 mg', 'Levothyroxine 50 mcg', 'Albuterol inhaler',
  'Sertraline 50 mg', 'Omeprazole 20 mg', 'Ibuprofen 400 mg as needed', 'Amlodipine 5 mg', 'Gabapentin 300 mg',
  'Cyclobenzaprine 10 mg', 'Sumatriptan 50 mg',
];

export const APPOINTMENT_NOTES = [
  'Range of motion improved since last visit.', 'Patient reports less pain at night.', 'Home exercises reviewed.',
  'Discussed flossing technique.', 'Mild inflammation noted; follow up next visit.', 'Patient anxious about treatment; reassured.',
  'Progressing as planned.', 'Adjusted treatment intensity.', 'Reports flare-up after travel.', 'X-ray ordered.',
];
export const CALL_NOTES = [
  'Asked about insurance coverage.', 'Wanted to reschedule.', 'Question about a bill.', 'Requested records for another provider.',
  'Reported side effects; advised to call the clinician.', 'Asked for earlier appointment.',
];
export const SURVEY_COMMENTS: Record<number, string[]> = {
  1: ['Waited over 40 minutes past my appointment time.', 'Billing error was never fixed.', 'Felt rushed and not listened to.'],
  2: ['Front desk was unhelpful on the phone.', 'Parking is a nightmare.', 'Treatment helped little so far.'],
  3: ['Fine, but the wait was long.', 'Okay experience overall.', 'Hard to get an appointment slot.'],
  4: ['Friendly staff and clean clinic.', 'Good care, would come back.', 'Helpful explanation of the treatment.'],
  5: ['Excellent care, thank you!', 'Best clinic I have been to.', 'Feeling so much better, highly recommend.'],
};

/** A kind of patient relationship: how often they come and what they come for. */
export interface Cadence {
  name: 'weekly_course' | 'monthly' | 'six_monthly' | 'one_off';
  weight: number;
  firstType: string;
  type: string;
  /** Value range of one visit, in whole currency units. */
  value: [number, number];
}

export const CADENCES: readonly Cadence[] = [
  { name: 'weekly_course', weight: 30, firstType: 'Initial assessment', type: 'Physiotherapy session', value: [85, 140] },
  { name: 'monthly', weight: 15, firstType: 'Initial assessment', type: 'Maintenance session', value: [70, 120] },
  { name: 'six_monthly', weight: 35, firstType: 'New patient exam', type: 'Check-up and cleaning', value: [110, 220] },
  { name: 'one_off', weight: 20, firstType: 'Consultation', type: 'Follow-up consultation', value: [90, 250] },
];

export const SEQUENCES = {
  onboarding: ['welcome_message', 'intake_forms', 'first_visit_reminder', 'first_visit_follow_up'],
  recall: ['recall_notice', 'recall_reminder', 'final_recall_reminder'],
  reactivation: ['we_miss_you', 'special_offer', 'personal_call', 'final_check_in'],
  followUp: ['thank_you', 'satisfaction_survey', 'review_request'],
} as const;
