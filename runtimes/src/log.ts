/**
 * The in-VM programs' logs, in the format every program here shares (shared/json-logger.ts),
 * with the program's name as `component`. The contract server writes to stdout, which
 * AgentCore ships to the runtime's CloudWatch log group; the launcher writes to the agent
 * log (its terminal is the protocol channel).
 */
import { ENV_RUNTIME_NAME } from '../../shared/contract/runtime-env';
import { createJsonLogger, type LineSink, type LogFields, type Logger, silentLogger } from '../../shared/json-logger';
import { RUNTIME_DIMENSION } from '../../shared/metrics';

export type { LineSink, LogFields, Logger };
export { silentLogger };

const stdoutSink: LineSink = (line) => {
  try {
    process.stdout.write(line);
  } catch {
    // Logging never takes the program down.
  }
};

/**
 * `Runtime` is on every record: the dimension of the metrics some records carry
 * (shared/metrics.ts), the runtime's name as the constructs set it.
 */
export function createLogger(component: string, sink: LineSink = stdoutSink, env: Record<string, string | undefined> = process.env): Logger {
  return createJsonLogger({ sink, base: { component, [RUNTIME_DIMENSION]: runtimeName(env) } });
}

/** The runtime's name as the constructs set it (`OPENAB_RUNTIME_NAME`). */
export function runtimeName(env: Record<string, string | undefined>): string {
  return env[ENV_RUNTIME_NAME] || UNNAMED_RUNTIME;
}

/** The `Runtime` of an image run without the constructs' environment. */
export const UNNAMED_RUNTIME = 'unnamed';

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
