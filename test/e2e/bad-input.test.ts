import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { BRIDGE_BUNDLE, type Harness, useHarness, hwmMiB } from '../support/bridge-harness';

/**
 * The bridge's stdin speaks to OAB, but anything may arrive there. Each case is one
 * line; `reply` is the JSON-RPC error code the bridge must answer with (and the id it
 * must echo), or `null` when it must stay silent. After all of them, it still serves.
 */
const CASES: Array<[string, string | Buffer, { code: number; id: unknown } | null]> = [
  ['plain text', 'hello bridge', { code: -32700, id: null }],
  ['truncated object', '{"jsonrpc":"2.0","id":1,', { code: -32700, id: null }],
  ['trailing comma', '{"jsonrpc":"2.0","id":2,"method":"x",}', { code: -32700, id: null }],
  ['single quotes', "{'jsonrpc':'2.0'}", { code: -32700, id: null }],
  ['NaN', '{"jsonrpc":"2.0","id":NaN,"method":"x"}', { code: -32700, id: null }],
  ['two objects on one line', '{"jsonrpc":"2.0","method":"a"}{"jsonrpc":"2.0","method":"b"}', { code: -32700, id: null }],
  ['byte order mark', '\uFEFF{"jsonrpc":"2.0","id":3,"method":"x"}', { code: -32700, id: null }],
  ['lone continuation byte', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x80, 0x22, 0x7d]), { code: -32700, id: null }],
  ['overlong encoding', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]), { code: -32700, id: null }],
  ['encoded surrogate half', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), { code: -32700, id: null }],
  ['truncated multibyte character', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe2, 0x82, 0x22, 0x7d]), { code: -32700, id: null }],
  ['0xFF byte', Buffer.from([0x7b, 0xff, 0x7d]), { code: -32700, id: null }],
  ['nesting 100,000 deep', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, { code: -32700, id: null }],
  ['nesting deep inside a request', `{"jsonrpc":"2.0","id":4,"method":"x","params":{"a":${'{"b":'.repeat(5000)}1${'}'.repeat(5000)}}}`, { code: -32700, id: null }],
  ['a number', '42', { code: -32600, id: null }],
  ['a string', '"session/prompt"', { code: -32600, id: null }],
  ['null', 'null', { code: -32600, id: null }],
  ['true', 'true', { code: -32600, id: null }],
  ['an array (batch)', '[{"jsonrpc":"2.0","id":5,"method":"initialize"}]', { code: -32600, id: null }],
  ['an empty array', '[]', { code: -32600, id: null }],
  ['an empty object', '{}', { code: -32600, id: null }],
  ['jsonrpc 1.0', '{"jsonrpc":"1.0","id":6,"method":"initialize"}', { code: -32600, id: 6 }],
  ['jsonrpc as a number', '{"jsonrpc":2.0,"id":7,"method":"initialize"}', { code: -32600, id: 7 }],
  ['jsonrpc missing', '{"id":8,"method":"initialize"}', { code: -32600, id: 8 }],
  ['id an object', '{"jsonrpc":"2.0","id":{"a":1},"method":"initialize"}', { code: -32600, id: null }],
  ['id an array', '{"jsonrpc":"2.0","id":[9],"method":"initialize"}', { code: -32600, id: null }],
  ['id a boolean', '{"jsonrpc":"2.0","id":true,"method":"initialize"}', { code: -32600, id: null }],
  ['id null on a request', '{"jsonrpc":"2.0","id":null,"method":"initialize"}', { code: -32600, id: null }],
  ['method a number', '{"jsonrpc":"2.0","id":10,"method":10}', { code: -32600, id: 10 }],
  ['method empty', '{"jsonrpc":"2.0","id":11,"method":""}', { code: -32600, id: 11 }],
  ['params a string', '{"jsonrpc":"2.0","id":12,"method":"x","params":"p"}', { code: -32600, id: 12 }],
  ['result and error together', '{"jsonrpc":"2.0","id":13,"result":1,"error":{"code":1,"message":"m"}}', { code: -32600, id: 13 }],
  ['a response with no id', '{"jsonrpc":"2.0","result":1}', { code: -32600, id: null }],
  ['prompt before any session', '{"jsonrpc":"2.0","id":14,"method":"session/prompt","params":{"sessionId":"x","prompt":[]}}', { code: -32002, id: 14 }],
  ['prompt with a string id before any session', '{"jsonrpc":"2.0","id":"s-15","method":"session/prompt","params":{"sessionId":"x","prompt":[]}}', { code: -32002, id: 's-15' }],
  ['prompt with a negative fractional id', '{"jsonrpc":"2.0","id":-1.5,"method":"session/prompt","params":{"sessionId":"x","prompt":[]}}', { code: -32002, id: -1.5 }],
  ['load of a foreign id', '{"jsonrpc":"2.0","id":16,"method":"session/load","params":{"sessionId":"agentcore-17000","cwd":"/","mcpServers":[]}}', { code: -32002, id: 16 }],
  ['an empty line', '', null],
  ['only whitespace', ' \t ', null],
  ['a notification for no session', '{"jsonrpc":"2.0","method":"session/cancel","params":{"sessionId":"x"}}', null],
];

describe('bad input on stdin', () => {
  test(`${CASES.length} malformed lines each get the answer the protocol prescribes, and the bridge keeps serving`, async () => {
    const child = spawn(process.execPath, [BRIDGE_BUNDLE, '--runtime-arn', 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/a_b-AbCdE12345',
      '--endpoint-url', 'http://127.0.0.1:9', '--log-level', 'error'], { stdio: ['pipe', 'pipe', 'ignore'], env: { PATH: process.env.PATH } });
    const replies: Array<Record<string, any>> = [];
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (l) => replies.push(JSON.parse(l)));
    try {
      for (const [, line] of CASES) {
        child.stdin.write(Buffer.concat([Buffer.isBuffer(line) ? line : Buffer.from(line), Buffer.from('\n')]));
      }
      // initialize needs no network; it shows the bridge still serves after all of them.
      child.stdin.write('{"jsonrpc":"2.0","id":"last","method":"initialize","params":{"protocolVersion":1,"clientCapabilities":{}}}\n');
      const expected = CASES.filter(([, , reply]) => reply !== null);
      const deadline = Date.now() + 10_000;
      while (replies.length < expected.length + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // Session requests are answered after the session machinery has looked at them; give a
      // stray extra reply (there must be none) a moment to show up.
      await new Promise((r) => setTimeout(r, 200));
      const errors = replies.filter((r) => r.id !== "last");
      expect(errors).toHaveLength(expected.length);
      errors.forEach((r, i) => {
        const [name, , want] = expected[i];
        expect({ name, code: r.error?.code, id: r.id }).toEqual({ name, code: want!.code, id: want!.id });
        expect(typeof r.error.message).toBe('string');
      });
      expect(replies.find((r) => r.id === 'last')?.result.agentCapabilities.loadSession).toBe(true);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('a 200 MiB request is answered at once, held no further than the 16 MiB default limit, and the next line is served', async () => {
    const child = spawn(process.execPath, [BRIDGE_BUNDLE, '--runtime-arn', 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/a_b-AbCdE12345',
      '--endpoint-url', 'http://127.0.0.1:9'], { stdio: ['pipe', 'pipe', 'ignore'], env: { PATH: process.env.PATH } });
    const replies: Array<Record<string, any>> = [];
    createInterface({ input: child.stdout }).on('line', (l) => replies.push(JSON.parse(l)));
    try {
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      child.stdin.write('{"jsonrpc":"2.0","id":1,"method":"x","params":{"big":"');
      let baseline = 0;
      for (let i = 0; i < 200; i++) {
        if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r));
        if (i === 0) baseline = hwmMiB(child.pid!);
      }
      child.stdin.write('"}}\n{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":1}}\n');
      const deadline = Date.now() + 10_000;
      while (replies.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(replies[0]).toMatchObject({ id: 1, error: { code: -32600 } });
      expect(replies[0].error.message).toBe(
        `Invalid Request: the message is ${200 * 1024 * 1024 + 57} bytes, more than the 16777216 bytes the bridge accepts (--max-message-bytes)`,
      );
      expect(replies[1].id).toBe(2);
      // 200 MiB went through; at its peak the bridge held its 16 MiB limit and the read buffers
      // awaiting collection, never the whole line.
      expect(hwmMiB(child.pid!) - baseline).toBeLessThan(16 + 48);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('hostile output from the agent', () => {
  let h: Harness;
  useHarness((x) => (h = x));

  test('stray responses, escape sequences, arrays and blank lines never reach the client', async () => {
    const sessionId = await h.newThread({ spawn: { filter: 'none' } });
    const reply = await h.promptCountingJunk(sessionId, 'hostile');
    expect(reply.text).toBe('hostile done');
    expect(reply.junk).toEqual([]);
    const events = h.logEvents();
    expect(events.filter((e) => e.event === 'agent-stale-response').map((e) => e.id)).toEqual([987654, 'not-yours']);
    // And the next turn is not ended early by the stray response.
    expect((await h.client.prompt(sessionId, 'next')).text).toBe('echo: next');
  });

  test('a message cut off by the agent dying is dropped, and the pending prompt is told why', async () => {
    const sessionId = await h.newThread();
    const err = await h.client.prompt(sessionId, 'partial').catch((e) => e);
    expect(err.data.code).toBe('BRIDGE_AGENT_EXITED');
    expect(err.message).toContain('the agent exited');
    expect(h.logEvents().some((e) => e.event === 'agent-partial-line')).toBe(true);
  });
});


describe('agent requests the client cannot answer', () => {
  let h: Harness;
  useHarness((x) => (h = x));

  test('fs/* without the capability is refused by the bridge at once, and never reaches the client', async () => {
    const sessionId = await h.newThread();
    const seen: string[] = [];
    h.client.events.on('request', (r: { method: string }) => seen.push(r.method));
    const started = Date.now();
    expect((await h.client.prompt(sessionId, 'fs /etc/hostname')).text).toBe('fs:error:-32601');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(seen).toEqual([]);
    expect(h.logEvents().find((e) => e.event === 'agent-request-refused')).toMatchObject({ method: 'fs/read_text_file', missing: 'clientCapabilities.fs.readTextFile' });
  });

  test('what the client advertised reaches it', async () => {
    await h.spawnBridge();
    await h.client.request('initialize', { protocolVersion: 1, clientCapabilities: { fs: { readTextFile: true } } }, { timeoutMs: 30_000 });
    const sessionId = await h.client.newSession('/tmp', { timeoutMs: 30_000 });
    const seen: string[] = [];
    h.client.events.on('request', (r: { method: string }) => seen.push(r.method));
    // The test client answers what it does not implement with -32601 itself.
    expect((await h.client.prompt(sessionId, 'fs /etc/hostname')).text).toBe('fs:error:-32601');
    expect(seen).toEqual(['fs/read_text_file']);
  });
});
