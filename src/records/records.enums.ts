/** Contact channel: patients' preferred channel and the channel of a communication. */
export const Channel = {
  Phone: 'phone',
  Sms: 'sms',
  Email: 'email',
  Whatsapp: 'whatsapp',
} as const;
export type Channel = (typeof Channel)[keyof typeof Channel];

export const AppointmentStatus = {
  Scheduled: 'scheduled',
  Completed: 'completed',
  Cancelled: 'cancelled',
  NoShow: 'no_show',
} as const;
export type AppointmentStatus = (typeof AppointmentStatus)[keyof typeof AppointmentStatus];

export const PaymentKind = {
  Charge: 'charge',
  Payment: 'payment',
  Refund: 'refund',
} as const;
export type PaymentKind = (typeof PaymentKind)[keyof typeof PaymentKind];

export const PaymentStatus = {
  Paid: 'paid',
  Pending: 'pending',
  Failed: 'failed',
  Overdue: 'overdue',
  Refunded: 'refunded',
} as const;
export type PaymentStatus = (typeof PaymentStatus)[keyof typeof PaymentStatus];

export const CommunicationKind = {
  Message: 'message',
  Call: 'call',
  Email: 'email',
} as const;
export type CommunicationKind = (typeof CommunicationKind)[keyof typeof CommunicationKind];

export const CommunicationDirection = {
  Inbound: 'inbound',
  Outbound: 'outbound',
} as const;
export type CommunicationDirection = (typeof CommunicationDirection)[keyof typeof CommunicationDirection];

export const TreatmentPlanStatus = {
  Active: 'active',
  Completed: 'completed',
  Abandoned: 'abandoned',
} as const;
export type TreatmentPlanStatus = (typeof TreatmentPlanStatus)[keyof typeof TreatmentPlanStatus];

export const EnrollmentStatus = {
  Active: 'active',
  Paused: 'paused',
  Completed: 'completed',
  Cancelled: 'cancelled',
} as const;
export type EnrollmentStatus = (typeof EnrollmentStatus)[keyof typeof EnrollmentStatus];

/** What a consent decision is about (docs/privacy.md, "Consent"). */
export const ConsentPurpose = {
  AppointmentReminders: 'appointment_reminders',
  Marketing: 'marketing',
  Analytics: 'analytics',
  Research: 'research',
  DataSharing: 'data_sharing',
} as const;
export type ConsentPurpose = (typeof ConsentPurpose)[keyof typeof ConsentPurpose];

/** The purposes that contact the patient, and so may be decided per channel. */
export const CONTACT_PURPOSES: readonly ConsentPurpose[] = [ConsentPurpose.AppointmentReminders, ConsentPurpose.Marketing];

export const ConsentDecisionKind = {
  Granted: 'granted',
  Withdrawn: 'withdrawn',
  Denied: 'denied',
} as const;
export type ConsentDecisionKind = (typeof ConsentDecisionKind)[keyof typeof ConsentDecisionKind];

/** How a consent decision reached the clinic. `migration`: converted from the patient's former consent flags. */
export const ConsentSource = {
  FrontDesk: 'front_desk',
  WebForm: 'web_form',
  EhrImport: 'ehr_import',
  Ingestion: 'ingestion',
  Migration: 'migration',
} as const;
export type ConsentSource = (typeof ConsentSource)[keyof typeof ConsentSource];
