/**
 * Gives memory back after a large message. A relayed 10 MB message leaves tens of
 * megabytes of buffers that V8 frees only at its next collection, which an idle
 * bridge may not run for minutes; OAB runs a bridge per thread, so that memory is
 * multiplied. After a large message, once things are quiet, one full collection
 * returns it (measured by `npm run bench`: private
 * memory after 10 MB each way). The collector is there when node runs with
 * `--expose-gc`, as the constructs start the bridge; without it, V8 collects later.
 */

/** Messages at least this large schedule a collection. */
export const LARGE_MESSAGE_BYTES = 1024 * 1024;
/** Quiet time before collecting: a burst of large messages is collected once, after it. */
const SETTLE_MS = 200;

let timer: NodeJS.Timeout | undefined;

/** Notes a message of `bytes`; after a large one, collects garbage once the bridge is quiet. */
export function collectAfterLargeMessage(bytes: number): void {
  if (bytes < LARGE_MESSAGE_BYTES) return;
  if (timer) timer.refresh();
  else timer = setTimeout(run, SETTLE_MS).unref();
}

function run(): void {
  timer = undefined;
  // Called without options: a full collection that frees the buffers' memory at once (in
  // Node 20, an options object such as `{ type: 'major' }` leaves them for later).
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') gc();
}
