import { faker } from '@faker-js/faker/locale/en';

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

export const ALLERGIES = ['Penicillin', 'Latex', 'Peanuts', 'Sulfa drugs', 'Ibuprofen', 'Shellfish', 'Pollen', 'Codeine', 'Bee stings', 'Lidocaine'];
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

export const SEQUENCES = {
  onboarding: ['welcome_message', 'intake_forms', 'first_visit_reminder', 'first_visit_follow_up'],
  recall: ['recall_notice', 'recall_reminder', 'final_recall_reminder'],
  reactivation: ['we_miss_you', 'special_offer', 'personal_call', 'final_check_in'],
  followUp: ['thank_you', 'satisfaction_survey', 'review_request'],
} as const;
