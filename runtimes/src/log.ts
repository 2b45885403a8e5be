/**
 * One JSON object per line per event. The contract server writes to stdout, which
 * AgentCore ships to the runtime's CloudWatch log group; the launcher writes to the
 * agent log (its terminal is the protocol channel). Secrets are never passed in.
 */
export type LogFields = Record<string, unknown>;
export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

/** Receives each finished line, newline included. */
export type LineSink = (line: string) => void;

const stdoutSink: LineSink = (line) => {
  try {
    process.stdout.write(line);
  } catch {
    // Logging never takes the program down.
  }
};

export function createLogger(component: string, sink: LineSink = stdoutSink): Logger {
  const emit = (level: LogLevel, event: string, fields?: LogFields) => {
    const record: LogFields = { time: new Date().toISOString(), level, component, event };
    for (const [k, v] of Object.entries(fields ?? {})) if (v !== undefined) record[k] = v;
    sink(`${JSON.stringify(record)}\n`);
  };
  return {
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The parts of an error worth a log line: name, message, AWS error code and HTTP status. */
export function describeError(err: unknown): LogFields {
  if (!(err instanceof Error)) return { error: String(err) };
  const meta = (err as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const code = (err as { code?: unknown }).code;
  return {
    error: err.name,
    message: err.message,
    code: typeof code === 'string' ? code : undefined,
    httpStatus: meta?.httpStatusCode,
  };
}
