export const OpportunityType = {
  OverdueAppointment: 'overdue_appointment',
  InactivePatient: 'inactive_patient',
  HighValueRisk: 'high_value_risk',
} as const;
export type OpportunityType = (typeof OpportunityType)[keyof typeof OpportunityType];

export const OpportunityPriority = {
  High: 'high',
  Medium: 'medium',
  Low: 'low',
} as const;
export type OpportunityPriority = (typeof OpportunityPriority)[keyof typeof OpportunityPriority];

/**
 * What kind of outreach the suggestion is, which decides the consent it needs:
 * `offer` is marketing (needs `marketing_consent`), `reminder` is an appointment reminder (needs
 * `appointment_reminders`), `next_contact` is no proactive outreach at all (raise it when the patient next calls or visits).
 */
export const OutreachKind = {
  Offer: 'offer',
  Reminder: 'reminder',
  NextContact: 'next_contact',
} as const;
export type OutreachKind = (typeof OutreachKind)[keyof typeof OutreachKind];
