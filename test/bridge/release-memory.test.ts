import { constants, PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { collectAfterLargeMessage, LARGE_MESSAGE_BYTES } from '../../bridge/src/release-memory';

const MiB = 1024 * 1024;

/** Counts full collections that were asked for (V8's own collections are not counted). */
function countForcedCollections(): { count: () => number; stop: () => void } {
  let forced = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const flags = (e as unknown as { detail?: { flags?: number } }).detail?.flags ?? 0;
      if (flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) forced++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { count: () => forced, stop: () => observer.disconnect() };
}

test('small messages collect nothing; a large one is followed by one collection once things are quiet', async () => {
  await sleep(400); // any collection scheduled by code that ran before this file has happened
  const gcs = countForcedCollections();
  try {
    collectAfterLargeMessage(LARGE_MESSAGE_BYTES - 1);
    await sleep(500);
    expect(gcs.count()).toBe(0);

    // Three large messages in a row are collected after, once.
    collectAfterLargeMessage(LARGE_MESSAGE_BYTES);
    collectAfterLargeMessage(10 * MiB);
    collectAfterLargeMessage(LARGE_MESSAGE_BYTES);
    expect(gcs.count()).toBe(0);
    await sleep(500);
    expect(gcs.count()).toBe(1);
  } finally {
    gcs.stop();
  }
});

test('the collection gives back the buffers a large message left behind', async () => {
  const garbage: Buffer[] = Array.from({ length: 40 }, () => Buffer.alloc(MiB, 1));
  const held = process.memoryUsage().arrayBuffers;
  expect(held).toBeGreaterThan(40 * MiB);
  // Dropping the last references is the point: the buffers become garbage.
  garbage.length = 0;
  const gcs = countForcedCollections();
  try {
    collectAfterLargeMessage(LARGE_MESSAGE_BYTES);
    await sleep(500);
    expect(gcs.count()).toBe(1);
    expect(process.memoryUsage().arrayBuffers).toBeLessThan(held - 30 * MiB);
  } finally {
    gcs.stop();
  }
});
