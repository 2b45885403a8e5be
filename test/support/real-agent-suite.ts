/**
 * The cases every real agent goes through: the bridge (dist/bridge.js, spawned as OAB spawns
 * it) runs the agent in the emulator's PTY shell, on the bare terminal or under the launcher;
 * the agent talks to its model API stand-in on loopback, and the ACP test client answers as OAB
 * would (permission: allow always). One test file per agent calls {@link realAgentSuite}, so
 * each runs in its own worker.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ChannelMode } from '../../bridge/src/agent/agent-channel';
import { type Harness, remoteOf, useHarness } from './bridge-harness';
import { logged, type ModelStandIn, openThread, type RealAgent, resumeThread, workspace } from './real-agents';

type UpdateEvent = { update: { sessionUpdate: string; content?: { text?: string } } };

const echo = (prompt: string) => ({ text: `echo: ${prompt}` });

/** `plain`: the agent on the bare terminal; `framed`: under the runtime's launcher, as the Kiro image runs it. */
export function realAgentSuite(agent: RealAgent, mode: ChannelMode): void {
  describe(`${agent.name} through the bridge, ${mode}`, () => {
    let h: Harness;
    let model: ModelStandIn;
    let command: string;
    let cwd: string;
    useHarness((x) => (h = x), { framed: mode === 'framed' });
    beforeEach(async () => {
      ({ model, shellCommand: command } = await agent.start(h));
      model.script(echo, 'done');
      cwd = workspace(h);
    });
    afterEach(() => model.stop());

    /** A thread with one turn behind it, whose text later requests must carry. */
    async function threadWithHistory(firstPrompt: string): Promise<string> {
      const sessionId = await openThread(h, command, cwd);
      expect((await h.client.prompt(sessionId, firstPrompt)).text).toBe(`echo: ${firstPrompt}`);
      return sessionId;
    }

    test('a turn streams back as several chunks, and the model is asked with the prompt', async () => {
      const sessionId = await openThread(h, command, cwd);
      const reply = await h.client.prompt(sessionId, 'hello from the thread');
      expect(reply.result.stopReason).toBe('end_turn');
      expect(reply.text).toBe('echo: hello from the thread');
      expect(reply.kinds.agent_message_chunk).toBeGreaterThanOrEqual(3);
      expect(model.lastPrompt()).toBe('hello from the thread');
      expect(logged(h, 'channel')[0]).toMatchObject({ mode });
    });

    test('a tool call asks the client for permission, and the file it writes is there', async () => {
      const file = path.join(cwd, 'notes.txt');
      model.script(() => ({ text: 'Writing it.', writeFile: { path: file, content: 'kept by the agent\n' } }), ' Written.');
      const sessionId = await openThread(h, command, cwd);
      const asked = h.client.waitForEvent<{ params: { options: Array<{ kind: string }> } }>('permission', undefined, 30_000);
      const reply = await h.client.prompt(sessionId, 'write the notes');
      expect((await asked).params.options.map((o) => o.kind)).toEqual(expect.arrayContaining(['allow_once', 'allow_always', 'reject_once']));
      expect(reply.kinds.tool_call).toBeGreaterThanOrEqual(1);
      expect(reply.text).toBe('Writing it. Written.');
      expect(readFileSync(file, 'utf8')).toBe('kept by the agent\n');
    });

    test('a killed bridge is replaced by one whose session/load continues the conversation with the same agent', async () => {
      const sessionId = await threadWithHistory('the deploy plan is blue-green');
      await h.client.kill('SIGKILL', { group: true });

      expect(await resumeThread(h, command, sessionId, cwd)).toEqual({});
      expect(logged(h, 'session-reattached')).toHaveLength(1);
      expect((await h.client.prompt(sessionId, 'what was the plan?')).text).toBe('echo: what was the plan?');
      expect(model.lastConversation()).toContain('the deploy plan is blue-green');
    });

    test('with its shell killed, the agent is started again by the next bridge and restores the conversation from disk', async () => {
      const sessionId = await threadWithHistory('remember the number 8472');
      const { runtimeSessionId, shellId } = remoteOf(sessionId);
      const bridgeExited = h.client.waitForEvent<{ code: number | null }>('exit', undefined, 15_000);
      expect(h.emulator.killShell(runtimeSessionId, shellId)).toBe(true);
      expect((await bridgeExited).code).toBe(1);
      expect(agent.hasSavedConversation(h, runtimeSessionId)).toBe(true);

      const replayed: string[] = [];
      h.client.events.on('update', (u: UpdateEvent) => replayed.push(u.update.sessionUpdate));
      await resumeThread(h, command, sessionId, cwd);
      expect(logged(h, 'session-loaded')).toMatchObject([{ restored: true }]);
      expect(replayed).toContain('user_message_chunk');
      expect((await h.client.prompt(sessionId, 'which number?')).text).toBe('echo: which number?');
      expect(model.lastConversation()).toContain('remember the number 8472');
    });

    test('with its saved conversation gone, session/load still gives a working thread, on a new conversation', async () => {
      const sessionId = await threadWithHistory('a conversation about to be lost');
      await h.client.close();
      const { runtimeSessionId } = remoteOf(sessionId);
      h.emulator.idleOutSession(runtimeSessionId);
      agent.forgetConversations(h, runtimeSessionId);
      const updateSessionIds = new Set<string>();
      h.client.events.on('update', (u: { sessionId: string }) => updateSessionIds.add(u.sessionId));

      // Answered with what the agent's new session said, less its session id: the client's stays.
      expect(await resumeThread(h, command, sessionId, cwd)).not.toHaveProperty('sessionId');
      expect(logged(h, 'conversation-not-restored')).toHaveLength(1);
      expect((await h.client.prompt(sessionId, 'anyone there?')).text).toBe('echo: anyone there?');
      expect(model.lastConversation()).not.toContain('a conversation about to be lost');
      // The new agent session's updates (its commands, the turn) carry the client's session id only.
      expect([...updateSessionIds]).toEqual([sessionId]);
    });

    test('a cancel under the stop strategy ends the turn as cancelled, and the next prompt gets a whole answer in the same conversation', async () => {
      const sessionId = await threadWithHistory('first, a short turn');
      model.script((prompt) => (prompt.includes('a long story') ? { text: 'x'.repeat(400), pieces: 40, pieceDelayMs: 250 } : echo(prompt)), 'done');
      const streaming = h.client.waitForEvent('update', (u: UpdateEvent) => u.update.sessionUpdate === 'agent_message_chunk' && !!u.update.content?.text, 30_000);
      const story = h.client.prompt(sessionId, 'tell me a long story');
      await streaming;
      h.client.cancel(sessionId);
      expect((await story).result.stopReason).toBe('cancelled');

      expect((await h.client.prompt(sessionId, 'are you back?')).text).toBe('echo: are you back?');
      expect(logged(h, 'agent-stopped')).toMatchObject([{ reason: 'session/cancel' }]);
      expect(logged(h, 'agent-restarted')).toMatchObject([{ restored: true }]);
      expect(model.lastConversation()).toContain('first, a short turn');
    });

    test(`a large prompt (${agent.largePrompt.what}) reaches the model intact`, async () => {
      const big = agent.largePrompt.text;
      model.script((prompt) => ({ text: `got ${Buffer.byteLength(prompt)} bytes` }), 'done');
      const sessionId = await openThread(h, command, cwd);
      const reply = await h.client.prompt(sessionId, big, { timeoutMs: 60_000 });
      expect(reply.text).toBe(`got ${Buffer.byteLength(big)} bytes`);
      // Compared without printing a megabyte on failure.
      expect(model.lastPrompt() === big).toBe(true);
    });
  });
}
