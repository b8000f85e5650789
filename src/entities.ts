import { OrganizationKey, PatientKey } from 'src/records/entities/phi-key.entities';
import { ApiKey } from 'src/auth/entities/api-key.entity';
import { JobRun } from 'src/jobs/entities/job-run.entity';
import { StoredFile, StoredFileChunk } from 'src/file-store/entities/stored-file.entity';
import { FhirResource } from 'src/fhir-import/entities/fhir-resource.entity';
import { Membership } from 'src/organizations/entities/membership.entity';
import { Organization } from 'src/organizations/entities/organization.entity';
import { User } from 'src/organizations/entities/user.entity';
import { Appointment } from 'src/records/entities/appointment.entity';
import { AutomationEnrollment } from 'src/records/entities/automation-enrollment.entity';
import { ConsentDecision } from 'src/records/entities/consent-decision.entity';
import { Communication } from 'src/records/entities/communication.entity';
import { JourneyEvent } from 'src/records/entities/journey-event.entity';
import { Patient } from 'src/records/entities/patient.entity';
import { PatientIdentifier } from 'src/records/entities/patient-identifier.entity';
import { Payment } from 'src/records/entities/payment.entity';
import { Referral } from 'src/records/entities/referral.entity';
import { SurveyResponse } from 'src/records/entities/survey-response.entity';
import { TreatmentPlan } from 'src/records/entities/treatment-plan.entity';
import { OpportunityRefresh } from 'src/opportunities/entities/opportunity-refresh.entity';
import { ReengagementOpportunity } from 'src/opportunities/entities/reengagement-opportunity.entity';
import { EngagementPatientDays } from 'src/engagement/entities/engagement-patient-days.entity';
import { EngagementRollup } from 'src/engagement/entities/engagement-rollup.entity';
import { EngagementVisitGap } from 'src/engagement/entities/engagement-visit-gap.entity';
import { ModelFit } from 'src/scoring/entities/model-fit.entity';
import { PatientMetrics } from 'src/scoring/entities/patient-metrics.entity';
import { RiskScoreHistory } from 'src/scoring/entities/risk-score-history.entity';

/** Every entity class: the single list the data source (and migrations) use. */
export const ENTITIES = [
  Organization,
  User,
  Membership,
  ApiKey,
  Patient,
  Appointment,
  Payment,
  Communication,
  SurveyResponse,
  Referral,
  TreatmentPlan,
  JourneyEvent,
  AutomationEnrollment,
  ConsentDecision,
  PatientMetrics,
  RiskScoreHistory,
  ModelFit,
  ReengagementOpportunity,
  OpportunityRefresh,
  EngagementRollup,
  EngagementPatientDays,
  EngagementVisitGap,
  JobRun,
  StoredFile,
  StoredFileChunk,
  FhirResource,
  OrganizationKey,
  PatientKey,
  PatientIdentifier,
];
