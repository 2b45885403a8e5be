/**
 * What one turn (a `session/prompt` and its answer) came to, as the `turn` log record:
 * its outcome, how long it took and how long until the agent streamed its first update,
 * with the metrics those make (shared/metrics.ts). Pure.
 */
import { metricFields } from '../../../shared/metrics';
import type { LogFields } from '../logger';

/** A turn's outcome: the ACP stop reasons worth telling apart, an error answer, or anything else. */
export type TurnOutcome = 'end_turn' | 'cancelled' | 'error' | 'other';

export interface TurnTiming {
  /** When the prompt reached the bridge (ms). */
  readonly startedAt: number;
  /** When the agent's first `session/update` for it arrived, if one did. */
  readonly firstUpdateAt?: number;
}

/** The outcome of an answer to a prompt, from its `result` or `error`. */
export function turnOutcome(answer: { readonly result?: unknown; readonly error?: unknown }): { outcome: TurnOutcome; stopReason?: string } {
  if (answer.error !== undefined) return { outcome: 'error' };
  const stopReason = (answer.result as { stopReason?: unknown } | null | undefined)?.stopReason;
  if (typeof stopReason !== 'string') return { outcome: 'other' };
  return { outcome: stopReason === 'end_turn' || stopReason === 'cancelled' ? stopReason : 'other', stopReason };
}

/** The fields of the `turn` record, metrics included. */
export function turnRecord(timing: TurnTiming, outcome: TurnOutcome, stopReason?: string, now: number = Date.now()): LogFields {
  const durationMs = Math.max(0, now - timing.startedAt);
  const firstUpdateMs = timing.firstUpdateAt === undefined ? undefined : Math.max(0, timing.firstUpdateAt - timing.startedAt);
  return {
    outcome,
    stopReason,
    durationMs,
    firstUpdateMs,
    ...metricFields({ Turns: 1, TurnDuration: durationMs, TurnTimeToFirstUpdate: firstUpdateMs }, { Outcome: outcome }, now),
  };
}
