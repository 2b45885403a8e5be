/**
 * The bridge's log: to stderr, or appended to `--log-file`. OAB discards its agent's
 * stderr, so deployments point `--log-file` at a named pipe whose reader copies it to the
 * container's log stream. Credentials are never logged; message contents only at `debug`.
 *
 * A bridge never waits on its log. The file is opened and written without blocking: with
 * no reader behind a pipe yet, or one that has fallen behind, a line is dropped and
 * counted, and the count goes out with the next line that gets through. On a pipe every
 * line is one write of at most PIPE_BUF bytes, so the lines of concurrent bridges never
 * interleave.
 */
import { closeSync, constants, openSync, statSync, writeSync } from 'node:fs';
import { createJsonLogger, type LineSink, type LogFields, type Logger, type LogLevel } from '../../shared/json-logger';

export type { LogFields, Logger };

/** What a pipe takes in one write without interleaving it with other writers' (Linux PIPE_BUF). */
export const PIPE_BUF = 4096;
/** How often a pipe with no reader is tried again. */
const REOPEN_MS = 1_000;

export function createLogger(level: LogLevel, file?: string, base: LogFields = {}): Logger {
  return createJsonLogger({ level, sink: file ? fileSink(file) : stderrSink, base });
}

const stderrSink: LineSink = (line) => {
  try {
    process.stderr.write(line);
  } catch {
    // Logging must never take the relay down.
  }
};

/** Throws at start for a path that cannot be used (reported by the caller); a pipe with no reader is not one. */
function fileSink(file: string): LineSink {
  const isPipe = (() => {
    try {
      return statSync(file).isFIFO();
    } catch {
      return false; // created by the open below
    }
  })();
  let fd: number | undefined;
  let triedAt = 0;
  let dropped = 0;
  const open = (): void => {
    triedAt = Date.now();
    try {
      fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK, 0o644);
    } catch (e) {
      // ENXIO: a pipe with no reader yet. Anything else at start is a bad path.
      if ((e as NodeJS.ErrnoException).code !== 'ENXIO') throw e;
    }
  };
  open();
  const writeOne = (line: string): boolean => {
    if (fd === undefined) return false;
    try {
      writeSync(fd, line);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') {
        // The reader is gone (EPIPE) or the file broke: try again later.
        closeQuietly(fd);
        fd = undefined;
      }
      return false;
    }
  };
  return (line) => {
    if (fd === undefined && Date.now() - triedAt >= REOPEN_MS) {
      try {
        open();
      } catch {
        // Still unusable: keep counting.
      }
    }
    const out = isPipe ? fitPipe(line) : line;
    if (dropped > 0 && fd !== undefined) {
      const notice = `${JSON.stringify({ time: new Date().toISOString(), level: 'warn', event: 'log-lines-dropped', count: dropped })}\n`;
      if (writeOne(notice)) dropped = 0;
    }
    if (!writeOne(out)) dropped++;
  };
}

/** A line a pipe takes whole: a longer record is replaced by one that says so. */
function fitPipe(line: string): string {
  if (Buffer.byteLength(line) <= PIPE_BUF) return line;
  let head: Record<string, unknown> = {};
  try {
    head = JSON.parse(line) as Record<string, unknown>;
  } catch {
    // not ours
  }
  return `${JSON.stringify({ time: head.time, level: head.level, event: head.event, truncated: true, bytes: Buffer.byteLength(line) })}\n`;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already gone
  }
}
