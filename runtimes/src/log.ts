/**
 * The in-VM programs' logs, in the format every program here shares (shared/json-logger.ts),
 * with the program's name as `component`. The contract server writes to stdout, which
 * AgentCore ships to the runtime's CloudWatch log group; the launcher writes to the agent
 * log (its terminal is the protocol channel).
 */
import { createJsonLogger, type LineSink, type LogFields, type Logger, silentLogger } from '../../shared/json-logger';

export type { LineSink, LogFields, Logger };
export { silentLogger };

const stdoutSink: LineSink = (line) => {
  try {
    process.stdout.write(line);
  } catch {
    // Logging never takes the program down.
  }
};

export function createLogger(component: string, sink: LineSink = stdoutSink): Logger {
  return createJsonLogger({ sink, base: { component } });
}

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
