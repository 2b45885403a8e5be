/**
 * Gives memory back after a large message. A relayed 10 MB message leaves tens of
 * megabytes of buffers that V8 frees only at its next collection, which an idle
 * bridge may not run for minutes; OAB runs a bridge per thread, so that memory is
 * multiplied. After a large message, once things are quiet, one full collection
 * returns it (measured by `npm run bench`: VmRSS after 10 MB each way).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Messages at least this large schedule a collection. */
export const LARGE_MESSAGE_BYTES = 1024 * 1024;
/** Quiet time before collecting: a burst of large messages is collected once, after it. */
const SETTLE_MS = 200;

let collect: (() => void) | undefined | null = null;
let timer: NodeJS.Timeout | undefined;

/** Notes a message of `bytes`; after a large one, collects garbage once the bridge is quiet. */
export function collectAfterLargeMessage(bytes: number): void {
  if (bytes < LARGE_MESSAGE_BYTES) return;
  if (timer) timer.refresh();
  else timer = setTimeout(run, SETTLE_MS).unref();
}

function run(): void {
  timer = undefined;
  if (collect === null) collect = obtainCollector();
  collect?.();
}

/** V8's collector: exposed by the flag at run time (it only adds the `gc` function), or none. */
function obtainCollector(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}
