export const Role = {
  Owner: 'owner',
  Admin: 'admin',
  Clinician: 'clinician',
  FrontDesk: 'front_desk',
  Marketing: 'marketing',
  Analyst: 'analyst',
} as const;
export type Role = (typeof Role)[keyof typeof Role];
