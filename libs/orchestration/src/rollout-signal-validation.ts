/**
 * Checks of raw rollout control signals (pause, resume, abort), like signal-validation.ts does for
 * a deployment's: anyone with access to Temporal can send any JSON. Pure: workflow code runs it.
 */
import { isPrintable, MAX_REQUESTED_BY_LENGTH, SIGNAL_ACTOR } from './signal-validation';

export type RolloutSignalCheck = { ok: true; requestedBy: string } | { ok: false; reason: string };

/** No payload, or `{"requestedBy": "<name>"}` and nothing else; a rejection never echoes the payload. */
export function checkRolloutSignal(raw: unknown): RolloutSignalCheck {
  if (raw === undefined || raw === null) return { ok: true, requestedBy: SIGNAL_ACTOR };
  const shape = 'a rollout signal takes no payload or {"requestedBy": "<name>"}';
  if (typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, reason: shape };
  const fields = Object.keys(raw);
  if (fields.some((k) => k !== 'requestedBy')) return { ok: false, reason: `${shape}: unknown field(s)` };
  const by = (raw as { requestedBy?: unknown }).requestedBy;
  if (by === undefined) return { ok: true, requestedBy: SIGNAL_ACTOR };
  if (!isPrintable(by, MAX_REQUESTED_BY_LENGTH)) return { ok: false, reason: `requestedBy must be a printable string of at most ${MAX_REQUESTED_BY_LENGTH} characters` };
  return { ok: true, requestedBy: by };
}
