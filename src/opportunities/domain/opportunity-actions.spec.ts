import { suggestedAction } from 'src/opportunities/domain/opportunity-rules';

/** The suggested-action sentences outreachFor never asks for today (an offer of a due visit), and an unknown kind. */
describe('suggested actions, the remaining combinations', () => {
  it('an offer to book a due visit, on the preferred channel', () => {
    expect(suggestedAction({ type: 'overdue_appointment', outreach: 'offer', channel: 'sms', patientStatus: 'dormant' })).toBe(
      'Text the patient to offer a booking for their due visit',
    );
  });

  it('an unknown outreach kind, or an offer of an unknown type, falls back to contacting the patient', () => {
    expect(suggestedAction({ type: 'inactive_patient', outreach: 'carrier_pigeon' as never, channel: 'phone', patientStatus: 'at_risk' })).toBe('Call the patient');
    expect(suggestedAction({ type: 'lost_patient' as never, outreach: 'offer', channel: 'email', patientStatus: 'at_risk' })).toBe('Email the patient');
  });
});
