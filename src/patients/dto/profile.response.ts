import { ApiProperty } from '@nestjs/swagger';

export class PatientAddress {
  street: string | null;
  city: string | null;
  state: string | null;
  zip: string | null;
}

export class MedicalInfo {
  conditions: string[];
  allergies: string[];
  medications: string[];
}

export class AppointmentHistoryItem {
  /** When the appointment started (ISO timestamp). */
  date: string;
  type: string;
  /** Value in currency units. */
  value: number;
  notes: string | null;
  /** completed, cancelled, no_show or scheduled (an extension of the contract). */
  status: string;
}

export class EngagementMetrics {
  ltv: number;
  @ApiProperty({ type: 'integer' })
  total_sessions: number;
  avg_session_value: number;
  last_appointment: string | null;
  next_appointment: string | null;
  appointment_history: AppointmentHistoryItem[];
}

export class RiskAssessment {
  risk_score: number;
  @ApiProperty({ enum: ['low', 'medium', 'high'] })
  risk_level: 'low' | 'medium' | 'high';
  /** Short sentences naming the facts behind the score. */
  risk_factors: string[];
  last_assessed: string;
}

export class CommunicationPreferences {
  @ApiProperty({ enum: ['phone', 'sms', 'email', 'whatsapp'] })
  preferred_channel: 'phone' | 'sms' | 'email' | 'whatsapp';
  marketing_consent: boolean;
  appointment_reminders: boolean;
}

export class PatientProfile {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
  /** ISO date. */
  date_of_birth: string | null;
  address: PatientAddress | null;
  /** Only for callers with `patients:read_medical`; null otherwise. */
  medical_info: MedicalInfo | null;
  engagement_metrics: EngagementMetrics;
  risk_assessment: RiskAssessment;
  communication_preferences: CommunicationPreferences;
}

export class ProfileResponse {
  patient: PatientProfile;
}
