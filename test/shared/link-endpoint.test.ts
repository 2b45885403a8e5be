import { LinkEndpoint } from '../../shared/link/link-endpoint';
import { decodeLinkFrame, isLinkLine } from '../../shared/link/link-frame';
import { LINK_ACK_DELAY_MS, LINK_VERSION, parseHello } from '../../shared/link/link-probe';

/** Splits what an end wrote into lines, as the other end's line splitter would. */
function lines(bytes: Buffer[]): Buffer[] {
  return Buffer.concat(bytes).toString('latin1').split('\n').filter(Boolean).map((l) => Buffer.from(l, 'latin1'));
}

/** The bridge end and the launcher end with a wire between them that can be cut. */
function pair() {
  const toLauncher: Buffer[] = [];
  const toBridge: Buffer[] = [];
  const atBridge: string[] = [];
  const atLauncher: string[] = [];
  const bridge = new LinkEndpoint({ write: (b) => toLauncher.push(b), deliver: (p) => atBridge.push(p.toString()) });
  const launcher = new LinkEndpoint({ write: (b) => toBridge.push(b), deliver: (p) => atLauncher.push(p.toString()) });
  /** Carries what is on the wire, each way, to the other end. */
  const flush = () => {
    for (let moved = true; moved; ) {
      moved = toLauncher.length + toBridge.length > 0;
      for (const l of lines(toLauncher.splice(0))) launcher.receive(l);
      for (const l of lines(toBridge.splice(0))) bridge.receive(l);
    }
  };
  /** The connection drops: whatever is on the wire is lost. */
  const drop = () => {
    toLauncher.length = 0;
    toBridge.length = 0;
  };
  return { bridge, launcher, toLauncher, toBridge, atBridge, atLauncher, flush, drop };
}

describe('LinkEndpoint', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.clearAllTimers();
    jest.useRealTimers();
  });

  test('a message lost with the connection is resent on resume and delivered exactly once, both ways', () => {
    const p = pair();
    p.launcher.send(Buffer.from('{"n":1}'));
    p.flush();
    p.launcher.send(Buffer.from('{"n":2}'));
    p.bridge.send(Buffer.from('{"up":1}'));
    p.drop();
    p.launcher.send(Buffer.from('{"n":3}'));
    p.drop();
    p.bridge.requestResume();
    p.flush();
    const launcherResent = p.launcher.answerResume();
    p.flush();
    expect(p.atBridge).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(p.atLauncher).toEqual(['{"up":1}']);
    expect(launcherResent).toBe(2);
    // A second resume after everything arrived delivers nothing twice.
    p.bridge.requestResume();
    p.flush();
    p.launcher.answerResume();
    p.flush();
    expect(p.atBridge).toHaveLength(3);
    expect(p.atLauncher).toHaveLength(1);
  });

  test('the resume request starts with a newline, so a frame cut by the drop ends before it', () => {
    const p = pair();
    p.bridge.requestResume();
    expect(p.toLauncher[0][0]).toBe(0x0a);
    expect(decodeLinkFrame(lines(p.toLauncher)[0])?.kind).toBe('R');
  });

  test('what is received is acknowledged alone after the ack delay, and what is acknowledged is not kept', async () => {
    const p = pair();
    p.launcher.send(Buffer.from('{"n":1}'));
    p.flush();
    expect(p.launcher.unackedCount).toBe(1);
    expect(p.toLauncher).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(LINK_ACK_DELAY_MS);
    expect(lines(p.toLauncher).map((l) => decodeLinkFrame(l)?.kind)).toEqual(['A']);
    p.flush();
    expect(p.launcher.unackedCount).toBe(0);
    expect(p.launcher.unackedBytes).toBe(0);
  });

  test('an ack rides on outgoing data: no ack-only frame follows', async () => {
    const p = pair();
    p.launcher.send(Buffer.from('{"n":1}'));
    p.flush();
    p.bridge.send(Buffer.from('{"reply":1}'));
    await jest.advanceTimersByTimeAsync(LINK_ACK_DELAY_MS * 2);
    expect(lines(p.toLauncher).map((l) => decodeLinkFrame(l)?.kind)).toEqual(['D']);
  });

  test('a new bridge is greeted with the numbering, and what the old one was owed is dropped', () => {
    const p = pair();
    p.launcher.send(Buffer.from('{"n":1}'));
    p.launcher.send(Buffer.from('{"n":2}'));
    p.drop();
    p.launcher.greetNewPeer(LINK_VERSION);
    const hello = decodeLinkFrame(lines(p.toBridge)[0])!;
    expect(hello.kind).toBe('H');
    expect(parseHello(hello.payload)).toEqual({ version: LINK_VERSION, nextSeq: 3 });
    expect(p.launcher.unackedCount).toBe(0);
    // The new bridge expects frame 3 next: frames 1 and 2 never reach it.
    p.toBridge.length = 0;
    p.bridge.expectFrom(3);
    p.launcher.send(Buffer.from('{"n":3}'));
    p.flush();
    expect(p.atBridge).toEqual(['{"n":3}']);
  });

  test('after close no ack is sent, for what was received before or after', async () => {
    const p = pair();
    p.launcher.send(Buffer.from('{"n":1}'));
    p.flush();
    p.bridge.close();
    p.launcher.send(Buffer.from('{"n":2}'));
    p.flush();
    await jest.advanceTimersByTimeAsync(LINK_ACK_DELAY_MS * 2);
    expect(p.toLauncher.filter((b) => isLinkLine(b))).toEqual([]);
  });
});
