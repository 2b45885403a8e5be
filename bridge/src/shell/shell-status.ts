/**
 * STATUS channel messages. The first one on every connection confirms the attach
 * (it carries `metadata.shellId`); a later one without `shellId` reports the shell's exit.
 */

export interface StatusMessage {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: { shellId?: string; reconnected?: boolean; bytesDropped?: number };
  status: 'Success' | 'Failure';
  reason?: string;
  code?: number;
  message?: string;
  details?: { causes?: Array<{ reason: string; message: string }> };
}

export type StatusEvent =
  | { type: 'attached'; shellId: string; reconnected: boolean; bytesDropped: number }
  | { type: 'exited'; exitCode: number | null; signal: string | null; reason: string }
  | { type: 'transient'; reason: string }
  | { type: 'unknown'; raw: string };

export function parseStatus(payload: Buffer | string): StatusEvent {
  const raw = typeof payload === 'string' ? payload : payload.toString('utf8');
  let msg: StatusMessage;
  try {
    msg = JSON.parse(raw) as StatusMessage;
  } catch {
    return { type: 'unknown', raw };
  }
  if (!msg || typeof msg !== 'object') return { type: 'unknown', raw };
  const meta = msg.metadata ?? {};
  if (typeof meta.shellId === 'string') {
    const dropped = Number(meta.bytesDropped ?? 0);
    return {
      type: 'attached',
      shellId: meta.shellId,
      reconnected: meta.reconnected === true,
      bytesDropped: Number.isFinite(dropped) && dropped > 0 ? dropped : 0,
    };
  }
  if (msg.status === 'Success') return { type: 'exited', exitCode: 0, signal: null, reason: 'exited with code 0' };
  if (msg.status === 'Failure') {
    // A platform-side failure (code 500) is transient: the shell may still be there after a reattach.
    if (msg.reason === 'InternalError' || msg.code === 500) {
      return { type: 'transient', reason: msg.message ?? 'internal error' };
    }
    const causes = msg.details?.causes ?? [];
    const exit = causes.find((c) => c.reason === 'ExitCode');
    const signal = causes.find((c) => c.reason === 'Signal');
    if (exit) {
      const code = Number.parseInt(exit.message, 10);
      return { type: 'exited', exitCode: Number.isNaN(code) ? null : code, signal: null, reason: `exited with code ${exit.message}` };
    }
    if (signal) return { type: 'exited', exitCode: null, signal: signal.message, reason: `killed by signal ${signal.message}` };
    return { type: 'exited', exitCode: null, signal: null, reason: msg.reason ?? msg.message ?? 'failed' };
  }
  return { type: 'unknown', raw };
}

export function attachedStatus(shellId: string, reconnected: boolean, bytesDropped = 0): StatusMessage {
  const metadata: StatusMessage['metadata'] = { shellId, reconnected };
  if (bytesDropped > 0) metadata.bytesDropped = bytesDropped;
  return { kind: 'Status', apiVersion: 'v1', metadata, status: 'Success' };
}

export function exitStatus(exitCode: number, signal?: string): StatusMessage {
  if (signal) {
    return {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'Signal', message: signal }] },
    };
  }
  if (exitCode === 0) return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' };
  return {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}
