/**
 * The one log format of every program here: one JSON object per line per event,
 * `{"time","level","event", …base fields, …event fields}`. Keys whose name says they
 * hold a secret are redacted whatever the caller passed; fields may be given as a
 * function, made only when the level is logged (message contents, at `debug`). Pure
 * apart from the sink it is given.
 */
import type { LogLevel } from './contract/bridge-cli';

export type { LogLevel };
export type LogFields = Record<string, unknown>;
/** Fields, or a function that makes them, called only if the level is logged. */
export type LogFieldsArg = LogFields | (() => LogFields);
/** Receives each finished line, newline included; must not throw. */
export type LineSink = (line: string) => void;

export interface Logger {
  error(event: string, fields?: LogFieldsArg): void;
  warn(event: string, fields?: LogFieldsArg): void;
  info(event: string, fields?: LogFieldsArg): void;
  debug(event: string, fields?: LogFieldsArg): void;
  readonly level: LogLevel;
}

export interface JsonLoggerOptions {
  readonly sink: LineSink;
  /** @default 'info' */
  readonly level?: LogLevel;
  /** Fields on every record, after `event` (a pid, a component name). */
  readonly base?: LogFields;
}

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** Key names that hold secret values ("credentialProvider" is a name, "credentials" a secret). */
const SECRET_KEY = /secret|token|password|authorization|signature|credentials$/i;

export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const level = options.level ?? 'info';
  const base = options.base ?? {};
  const emit = (lvl: LogLevel, event: string, fields?: LogFieldsArg) => {
    if (ORDER[lvl] > ORDER[level]) return;
    const record: LogFields = { time: new Date().toISOString(), level: lvl, event, ...base };
    for (const [k, v] of Object.entries((typeof fields === 'function' ? fields() : fields) ?? {})) {
      if (v !== undefined) record[k] = SECRET_KEY.test(k) ? '[redacted]' : v;
    }
    options.sink(`${JSON.stringify(record)}\n`);
  };
  return {
    level,
    error: (e, f) => emit('error', e, f),
    warn: (e, f) => emit('warn', e, f),
    info: (e, f) => emit('info', e, f),
    debug: (e, f) => emit('debug', e, f),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = createJsonLogger({ level: 'error', sink: () => undefined });
