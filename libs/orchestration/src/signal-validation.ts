/**
 * Checks of raw signal payloads. Anyone with access to Temporal can send a signal with any JSON
 * (`temporal workflow signal --name upgrade --input ...`), so nothing in a payload is trusted.
 * Pure and deterministic (no Unicode tables that change with the runtime): workflow code runs it.
 */
import type { DriftSignalReason, QueuedUpgrade, ReconcileSignal } from './contract';

export const MAX_REQUESTED_BY_LENGTH = 200;
/** Who a signal without a (valid) requestedBy is recorded as. */
export const SIGNAL_ACTOR = 'temporal-signal';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// C0 and C1 controls (NUL included), and the bidirectional overrides that disguise text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const UPGRADE_FIELDS = new Set(['templateId', 'requestedBy']);

export type UpgradeCheck = { ok: true; signal: { templateId: string; requestedBy?: string } } | { ok: false; reason: string; requestedBy?: string };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string fit to be an event's actor: bounded, printable, well-formed UTF-16. */
export function isPrintable(v: unknown, maxLength: number): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= maxLength && !CONTROL.test(v) && v.trim() === v && isWellFormed(v);
}

/** No lone surrogate (they do not survive UTF-8 and Postgres). */
function isWellFormed(v: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(v);
}

/**
 * `{"templateId": "<uuid>", "requestedBy"?: "<name>"}` and nothing else. A rejection carries a
 * fixed reason that never echoes the payload, and the sender's name only when it is valid.
 */
export function checkUpgradeSignal(raw: unknown): UpgradeCheck {
  const shape = 'the upgrade signal must be {"templateId": "<uuid>", "requestedBy"?: "<name>"}';
  if (!isPlainObject(raw)) return { ok: false, reason: shape };
  const requestedBy = raw.requestedBy === undefined ? undefined : isPrintable(raw.requestedBy, MAX_REQUESTED_BY_LENGTH) ? raw.requestedBy : null;
  const by = requestedBy ?? undefined;
  const unknown = Object.keys(raw).filter((k) => !UPGRADE_FIELDS.has(k));
  if (unknown.length) {
    const named = unknown.filter((k) => /^[A-Za-z0-9_-]{1,40}$/.test(k)).slice(0, 3);
    const list = named.length === unknown.length ? named.join(', ') : `${unknown.length} field(s)`;
    return { ok: false, reason: `${shape}: unknown ${list}`, requestedBy: by };
  }
  if (requestedBy === null) return { ok: false, reason: `requestedBy must be a printable string of at most ${MAX_REQUESTED_BY_LENGTH} characters` };
  if (typeof raw.templateId !== 'string' || raw.templateId.length !== 36 || !UUID.test(raw.templateId.toLowerCase())) {
    return { ok: false, reason: 'templateId must be a UUID', requestedBy: by };
  }
  return { ok: true, signal: { templateId: raw.templateId.toLowerCase(), ...(by ? { requestedBy: by } : {}) } };
}

/** What the workflow queues for an upgrade signal: the checked signal, or its rejection (no payload kept). */
export function queuedUpgrade(raw: unknown): QueuedUpgrade {
  const checked = checkUpgradeSignal(raw);
  if (checked.ok) return checked.signal;
  return { templateId: '', rejected: checked.reason, ...(checked.requestedBy ? { requestedBy: checked.requestedBy } : {}) };
}

/** Only a literal `true` forces; any other payload is a plain reconcile (Postgres decides what to do). */
export function checkReconcileSignal(raw: unknown): Required<Pick<ReconcileSignal, 'force'>> {
  return { force: isPlainObject(raw) && raw.force === true };
}

/**
 * A drift signal asks for one drift check, whatever it carries: only `{"reason": "resync"}` is
 * read (a check that may use the worker's watch cache); anything else is a change, checked
 * against the API server. Nothing of the payload is kept.
 */
export function checkDriftSignal(raw: unknown): DriftSignalReason {
  return isPlainObject(raw) && raw.reason === 'resync' ? 'resync' : 'changed';
}
