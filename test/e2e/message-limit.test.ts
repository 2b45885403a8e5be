import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Harness, useHarness } from '../support/bridge-harness';
import { bigText } from '../support/patterns';

/**
 * `--max-message-bytes`: a message larger than the bridge accepts is never relayed,
 * and whoever waits for it is answered at once, in either direction and either mode.
 */
const LIMIT = 1024 * 1024;
const LIMIT_ARGS = ['--max-message-bytes', String(LIMIT)];
const SIZES = `more than the ${LIMIT} bytes the bridge accepts (--max-message-bytes)`;

describe.each([
  ['plain', false],
  ['framed', true],
])('the message limit (%s mode)', (_mode, framed) => {
  let h: Harness;
  useHarness((x) => (h = x), { framed });

  test('a prompt over the limit is answered with an error naming the limit, and the thread goes on', async () => {
    const sessionId = await h.newThread({ args: LIMIT_ARGS });
    const big = 'x'.repeat(LIMIT + 10);
    const err = await h.client.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: big }] }, { timeoutMs: 10_000 }).catch((e) => e);
    expect(err.code).toBe(-32600);
    expect(err.message).toContain(SIZES);
    expect(err.message).not.toContain('xxx');
    // Just under the limit still goes through, whole.
    const near = 'y'.repeat(LIMIT - 400);
    expect((await h.client.prompt(sessionId, `digest ${near}`)).text).toContain(`bytes:${near.length + 7}`);
    expect(h.logEvents().find((e) => e.event === 'client-message-too-large')).toMatchObject({ method: 'session/prompt', limit: LIMIT, answered: 'client' });
  });

  test('an update from the agent over the limit is dropped, the turn still ends, and smaller ones pass', async () => {
    const sessionId = await h.newThread({ args: LIMIT_ARGS });
    const over = await h.client.prompt(sessionId, `big ${LIMIT + 1000}`);
    expect(over.result.stopReason).toBe('end_turn');
    expect(over.text).toBe('');
    const under = await h.client.prompt(sessionId, `big ${LIMIT - 1000}`);
    expect(under.text === bigText(LIMIT - 1000)).toBe(true);
    if (framed) {
      // The launcher refused it, whole, before it went on the link.
      const launcherLog = readFileSync(path.join(h.dir, 'agent.log'), 'utf8');
      expect(launcherLog).toMatch(/"event":"agent-message-too-large".*"method":"session\/update"/);
      expect(launcherLog).toContain(`"limit":${LIMIT}`);
    } else {
      expect(h.logEvents().find((e) => e.event === 'agent-message-too-large')).toMatchObject({ method: 'session/update', limit: LIMIT, answered: 'nobody' });
    }
  });

  test('an answer from the agent over the limit reaches the client as an error in its place, and the thread goes on', async () => {
    const sessionId = await h.newThread({ args: LIMIT_ARGS });
    const err = await h.client.prompt(sessionId, `big-answer ${LIMIT + 1000}`).catch((e) => e);
    expect(err.code).toBe(-32603);
    expect(err.message).toMatch(new RegExp(`^Internal error: the answer is \\d+ bytes, ${SIZES.replace(/[()]/g, '\\$&')}$`));
    expect((await h.client.prompt(sessionId, 'next')).text).toBe('echo: next');
  });

    test('a request from the agent over the limit is answered to the agent, which carries on', async () => {
    const sessionId = await h.newThread({ args: LIMIT_ARGS });
    let asked = 0;
    h.client.events.on('permission', () => asked++);
    expect((await h.client.prompt(sessionId, `permission ${LIMIT + 1000}`)).text).toBe('permission:error:-32600');
    expect(asked).toBe(0);
    expect((await h.client.prompt(sessionId, 'permission')).text).toBe('permission:allow_always');
    expect(asked).toBe(1);
  });
});
