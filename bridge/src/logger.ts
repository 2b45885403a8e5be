/**
 * One JSON object per line per event, to stderr or to a file: OAB discards its
 * agent's stderr, so production deployments point `--log-file` at a path that
 * reaches the container's log stream. Credentials are never logged; message
 * contents only at `debug`.
 */
import { openSync, writeSync } from 'node:fs';
import type { LogLevel } from './options';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export type LogFields = Record<string, unknown>;
/** Fields, or a function that makes them, called only if the level is logged (costly ones: message contents). */
export type LogFieldsArg = LogFields | (() => LogFields);

export interface Logger {
  error(event: string, fields?: LogFieldsArg): void;
  warn(event: string, fields?: LogFieldsArg): void;
  info(event: string, fields?: LogFieldsArg): void;
  debug(event: string, fields?: LogFieldsArg): void;
  readonly level: LogLevel;
}

/** Keys whose values never reach a log line, whatever the caller passed. */
const SECRET_KEYS = /secret|token|password|authorization|credential|signature/i;

export function createLogger(level: LogLevel, file?: string, base: LogFields = {}): Logger {
  let fd: number | undefined;
  if (file) {
    // Fails early (at start) when the path is unusable; reported by the caller.
    fd = openSync(file, 'a');
  }
  const write = (line: string) => {
    try {
      if (fd !== undefined) writeSync(fd, line);
      else process.stderr.write(line);
    } catch {
      // Logging must never take the relay down.
    }
  };
  const emit = (lvl: LogLevel, event: string, fields?: LogFieldsArg) => {
    if (ORDER[lvl] > ORDER[level]) return;
    const record = { time: new Date().toISOString(), level: lvl, event, ...base, ...redact(typeof fields === 'function' ? fields() : fields) };
    write(`${JSON.stringify(record)}\n`);
  };
  return {
    level,
    error: (e, f) => emit('error', e, f),
    warn: (e, f) => emit('warn', e, f),
    info: (e, f) => emit('info', e, f),
    debug: (e, f) => emit('debug', e, f),
  };
}

function redact(fields: LogFields | undefined): LogFields {
  if (!fields) return {};
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = SECRET_KEYS.test(k) ? '[redacted]' : v;
  }
  return out;
}
