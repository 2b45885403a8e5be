// The Amazon Bedrock side of the Anthropic stand-in, checked with the AWS SDK's own event
// stream decoder (@smithy/eventstream-codec, which verifies both CRCs): what Claude Code's
// Bedrock client reads must be what the real service frames.
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { AnthropicStandIn, bedrockModelOf, eventStreamMessage } from './support/anthropic-stand-in';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** Splits a body into its event stream messages by their length prefixes. */
function messagesOf(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < body.length;) {
    const length = body.readUInt32BE(at);
    out.push(body.subarray(at, at + length));
    at += length;
  }
  return out;
}

describe('Bedrock runtime stand-in', () => {
  test('an event stream message decodes with the AWS SDK decoder, headers and payload intact', () => {
    const decoded = codec.decode(eventStreamMessage({ ':event-type': 'chunk', ':message-type': 'event' }, Buffer.from('{"bytes":"e30="}')));
    expect(decoded.headers).toEqual({ ':event-type': { type: 'string', value: 'chunk' }, ':message-type': { type: 'string', value: 'event' } });
    expect(Buffer.from(decoded.body).toString()).toBe('{"bytes":"e30="}');
  });

  test('the decoder does refuse a message with a damaged byte (the CRCs are checked)', () => {
    const message = eventStreamMessage({ ':event-type': 'chunk' }, Buffer.from('payload'));
    message[message.length - 6] ^= 1;
    expect(() => codec.decode(message)).toThrow(/checksum/i);
  });

  test('reads the model and streaming from the path, and nothing from other paths', () => {
    expect(bedrockModelOf('/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream')).toEqual({ model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', stream: true });
    expect(bedrockModelOf('/model/m/invoke')).toEqual({ model: 'm', stream: false });
    expect(bedrockModelOf('/v1/messages')).toBeUndefined();
    expect(bedrockModelOf('/model/m/converse')).toBeUndefined();
  });

  test('streams a turn as chunks of base64 Messages API events, ending in message_stop', async () => {
    const standIn = await AnthropicStandIn.start();
    try {
      const res = await fetch(`${standIn.url}/model/m/invoke-with-response-stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: 'hi there' }] }),
      });
      expect(res.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
      const events = messagesOf(Buffer.from(await res.arrayBuffer())).map((m) => {
        const decoded = codec.decode(m);
        expect(decoded.headers[':event-type']).toEqual({ type: 'string', value: 'chunk' });
        const { bytes } = JSON.parse(Buffer.from(decoded.body).toString()) as { bytes: string };
        return JSON.parse(Buffer.from(bytes, 'base64').toString()) as { type: string; delta?: { text?: string }; message?: { model: string } };
      });
      expect(events[0]).toMatchObject({ type: 'message_start', message: { model: 'm' } });
      expect(events.map((e) => e.delta?.text ?? '').join('')).toBe('echo: hi there');
      expect(events[events.length - 1].type).toBe('message_stop');
    } finally {
      await standIn.stop();
    }
  });
});
