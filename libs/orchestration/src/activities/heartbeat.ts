import { Context } from '@temporalio/activity';

/**
 * Heartbeats every `everyMs` while fn runs, so a killed worker is noticed within the heartbeat
 * timeout and cancellation reaches the activity. Details are short progress texts, never values.
 */
export async function withHeartbeat<T>(fn: (beat: (detail: string) => void, signal: AbortSignal) => Promise<T>, everyMs = 5000): Promise<T> {
  const ctx = Context.current();
  let last = 'started';
  const beat = (detail: string) => {
    last = detail.slice(0, 200);
    ctx.heartbeat(last);
  };
  const timer = setInterval(() => ctx.heartbeat(last), everyMs);
  try {
    beat(last);
    return await fn(beat, ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}
