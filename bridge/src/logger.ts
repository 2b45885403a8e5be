/**
 * The bridge's log: to stderr, or appended to `--log-file`. OAB discards its agent's
 * stderr, so production deployments point `--log-file` at a path that reaches the
 * container's log stream. Credentials are never logged; message contents only at `debug`.
 */
import { openSync, writeSync } from 'node:fs';
import { createJsonLogger, type LogFields, type Logger, type LogLevel } from '../../shared/json-logger';

export type { LogFields, Logger };

export function createLogger(level: LogLevel, file?: string, base: LogFields = {}): Logger {
  // Fails early (at start) when the path is unusable; reported by the caller.
  const fd = file ? openSync(file, 'a') : undefined;
  const sink = (line: string) => {
    try {
      if (fd !== undefined) writeSync(fd, line);
      else process.stderr.write(line);
    } catch {
      // Logging must never take the relay down.
    }
  };
  return createJsonLogger({ level, sink, base });
}
