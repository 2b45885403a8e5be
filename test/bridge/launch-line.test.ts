import * as pty from 'node-pty';
import { launchLine, splitAssignments } from '../../bridge/src/agent/launch-line';
import { PreambleScanner, type PreambleResult, readableTerminalText } from '../../bridge/src/agent/preamble';

/** Types the launch line into a real bash in a real PTY and collects what follows the marker. */
function runInPty(command: string, afterReady?: (term: pty.IPty) => void) {
  const term = pty.spawn('/bin/bash', ['--noprofile', '--norc', '-i'], {
    name: 'xterm-256color',
    cols: 80,
    rows: 24,
    cwd: '/tmp',
    encoding: null,
    env: { HOME: '/tmp', TERM: 'xterm-256color', PATH: '/usr/bin:/bin' },
  });
  const line = launchLine(command, 'abc123', 'acp-test');
  const scanner = new PreambleScanner(line.readyMarker, line.failedMarker);
  let result: PreambleResult = { kind: 'pending' };
  const after: Buffer[] = [];
  const done = new Promise<{ result: PreambleResult; after: () => Buffer; exitCode: number }>((resolve) => {
    term.onData((d) => {
      const chunk = d as unknown as Buffer;
      if (result.kind === 'pending') {
        result = scanner.push(chunk);
        if (result.kind === 'ready') {
          after.push(result.rest);
          afterReady?.(term);
        }
      } else {
        after.push(chunk);
      }
    });
    term.onExit(({ exitCode }) => resolve({ result, after: () => Buffer.concat(after), exitCode }));
  });
  term.write(line.text);
  return { term, done };
}

describe('launch line in a real PTY', () => {
  jest.setTimeout(20_000);

  test('raw mode: a 20 kB line with control-looking bytes comes back once, byte-exact, with no CR added', async () => {
    const payload = `{"jsonrpc":"2.0","method":"x","params":{"text":"${'é€😀\\u0003'.repeat(2000)}\u007f"}}`;
    // head -c ends after exactly one copy, so an echo would show up as a second copy. The
    // pause lets the PTY drain: the kernel discards unread output when the session leader exits.
    const bytes = Buffer.byteLength(payload) + 1;
    const { done } = runInPty(`sh -c "head -c ${bytes}; sleep 0.3"`, (term) => {
      setTimeout(() => term.write(`${payload}\n`), 100);
    });
    const { result, after, exitCode } = await done;
    expect(result.kind).toBe('ready');
    expect(exitCode).toBe(0);
    expect(after().toString('utf8')).toBe(`${payload}\n`);
  });

  test('the echoed launch line and the prompt never reach the agent output', async () => {
    const { done } = runInPty('sh -c "printf \'%s\\n\' first-output-line; sleep 0.3"');
    const { result, after } = await done;
    expect(result.kind).toBe('ready');
    expect(after().toString('utf8')).toBe('first-output-line\n');
    if (result.kind === 'ready') {
      // What was discarded is the terminal chatter, including the typed command.
      expect(readableTerminalText(result.discarded, 50)).toContain('stty raw -echo');
    }
  });

  test('a command that cannot be started ends the shell with 127 after saying why', async () => {
    const { done } = runInPty('no-such-agent-cli acp');
    const { result, after, exitCode } = await done;
    expect(exitCode).toBe(127);
    // The ready marker precedes exec; the failure follows it, with the shell's own words.
    expect(result.kind).toBe('ready');
    const text = readableTerminalText(after(), 10);
    expect(text).toContain('OPENAB_AGENT_FAILED_abc123 127');
    expect(text).toContain('no-such-agent-cli: not found');
  });

  test('refuses a multi-line command', () => {
    expect(() => launchLine('a\nb', 'x', 's')).toThrow('single line');
  });
});

describe('PreambleScanner', () => {
  test('finds the marker on the same line as bracketed-paste and CR, split across chunks', () => {
    const s = new PreambleScanner('READY_MARK', 'FAIL_MARK');
    const stream = Buffer.from("bash-5.2$ stty raw ...; printf '%s%s' 'READY' '_MARK'\r\n\u001b[?2004l\rREADY_MARK\n{\"jsonrpc\":\"2.0\"}\n");
    let r: PreambleResult = { kind: 'pending' };
    for (let i = 0; i < stream.length && r.kind === 'pending'; i += 3) r = s.push(stream.subarray(i, i + 3));
    expect(r.kind).toBe('ready');
  });

  test('waits for the newline after the marker', () => {
    const s = new PreambleScanner('READY_MARK', 'FAIL_MARK');
    expect(s.push(Buffer.from('xxREADY_MARK')).kind).toBe('pending');
    const r = s.push(Buffer.from('\n{"a":1}'));
    expect(r.kind === 'ready' && r.rest.toString()).toBe('{"a":1}');
  });
});

describe('splitAssignments', () => {
  test.each([
    ['kiro-cli acp --trust-all-tools', '', 'kiro-cli acp --trust-all-tools'],
    ['FOO=1 kiro-cli acp', 'FOO=1 ', 'kiro-cli acp'],
    [`A='x y' B="z" C= /opt/agent --x=1`, `A='x y' B="z" C= `, '/opt/agent --x=1'],
    ['/bin/agent FOO=1', '', '/bin/agent FOO=1'],
    ['FOO=$(rm -rf /) agent', '', 'FOO=$(rm -rf /) agent'],
  ])('%s', (input, assignments, command) => {
    expect(splitAssignments(input)).toEqual({ assignments, command });
  });

  test('a command with variable assignments starts in a real shell with them set', async () => {
    const { done } = runInPty(`GREETING='hello there' sh -c 'printf "%s\\n" "$GREETING"; sleep 0.3'`);
    const { result, after } = await done;
    expect(result.kind).toBe('ready');
    expect(after().toString('utf8')).toBe('hello there\n');
  });
});
