/**
 * Reengagement success probability in [0, 1]: the chance that reaching out brings the patient back.
 *
 *   p = P(alive) × channelFactor × consentFactor
 *
 * - P(alive): BG/NBD probability that the patient is still a patient of the clinic at all (someone who has moved
 *   away will not come back whatever we send). Without fitted models: 1 / (1 + max(0, gap - 1)), gap = days since
 *   the last visit ÷ usual interval (1 within one usual interval, 1/2 at two, 1/3 at three); 0.5 with no visit.
 * - channelFactor = 0.25 + 0.75 × replyRate, replyRate = the patient's reply rate on their preferred channel,
 *   (preferredChannelReplies + 2·overall) / (preferredChannelOutreach + 2), shrunk towards their overall smoothed
 *   reply rate (decayedReplies + 1.4) / (decayedOutreach + 2), so little data on the preferred channel means
 *   "like their other channels" and no data at all means 70 %. The floor 0.25: some patients act on a message
 *   (book online, walk in) without answering it.
 * - consentFactor: 1 with marketing consent; 0.6 with only appointment reminders allowed (only care-related
 *   recall messages may be sent: no offers, fewer touches); 0.2 with neither (the clinic may only respond when
 *   the patient makes contact).
 *
 * Calibration: these factors are reasoned priors, not fitted. Once reengagement outcomes are recorded, the product
 * should be recalibrated (e.g. isotonic regression of outcome on p), keeping the same inputs.
 */
import { probabilityAlive } from 'src/scoring/domain/bg-nbd';
import { safeCount, safeDate, daysBetween, clampUnit, type PatientFeatures } from 'src/scoring/domain/patient-features';
import { usualVisitIntervalDays } from 'src/scoring/domain/risk-components';
import { DEFAULT_SCORING_SETTINGS, type ScoringSettings } from 'src/scoring/domain/scoring-settings';
import { repeatHistory, type ScoringModels } from 'src/scoring/domain/scoring-models';

export const CONSENT_FACTORS = Object.freeze({ marketing: 1, remindersOnly: 0.6, none: 0.2 });

export function aliveProbability(
  features: PatientFeatures,
  now: number,
  models: ScoringModels | null,
  settings: ScoringSettings = DEFAULT_SCORING_SETTINGS,
): number {
  const history = repeatHistory(features, now, settings);
  if (history === null) return 0.5;
  if (models !== null) {
    const p = probabilityAlive(models.bgnbd, history);
    if (Number.isFinite(p)) return clampUnit(p);
  }
  const last = safeDate(features.lastVisitAt);
  if (last === null) return 0.5;
  const gap = daysBetween(last, now) / usualVisitIntervalDays(features, settings);
  const p = 1 / (1 + Math.max(0, gap - 1));
  return Number.isFinite(p) ? clampUnit(p) : 0;
}

export function preferredChannelReplyRate(features: PatientFeatures): number {
  const outreach = safeCount(features.decayedOutreach);
  const overall = (Math.min(safeCount(features.decayedReplies), outreach) + 1.4) / (outreach + 2);
  const channelOutreach = safeCount(features.preferredChannelOutreach);
  const channelReplies = Math.min(safeCount(features.preferredChannelReplies), channelOutreach);
  return clampUnit((channelReplies + 2 * overall) / (channelOutreach + 2));
}

export function successProbability(
  features: PatientFeatures,
  now: number,
  models: ScoringModels | null,
  settings: ScoringSettings = DEFAULT_SCORING_SETTINGS,
): number {
  const channelFactor = 0.25 + 0.75 * preferredChannelReplyRate(features);
  const consentFactor = features.marketingConsent
    ? CONSENT_FACTORS.marketing
    : features.appointmentReminders
      ? CONSENT_FACTORS.remindersOnly
      : CONSENT_FACTORS.none;
  const p = aliveProbability(features, now, models, settings) * channelFactor * consentFactor;
  return Number.isFinite(p) ? clampUnit(p) : 0;
}
