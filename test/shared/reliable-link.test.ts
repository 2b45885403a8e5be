import { crc32, decodeLinkFrame, encodeLinkFrame, isLinkLine } from '../../shared/link/link-frame';
import { ReliableLink } from '../../shared/link/reliable-link';

const strip = (b: Buffer) => b.subarray(0, b.length - 1); // the newline

describe('link frames', () => {
  test('round-trip a payload byte-exactly', () => {
    const payload = Buffer.from('{"jsonrpc":"2.0","method":"x","params":{"t":"é€😀|@@OAB1|"}}');
    const f = decodeLinkFrame(strip(encodeLinkFrame('D', 7, 3, payload)))!;
    expect(f).toMatchObject({ kind: 'D', seq: 7, ack: 3 });
    expect(f.payload.equals(payload)).toBe(true);
  });

  test('any cut, flipped byte or foreign line is rejected', () => {
    const line = strip(encodeLinkFrame('D', 1, 0, Buffer.from('{"a":"b"}')));
    for (let cut = 0; cut < line.length; cut++) expect(decodeLinkFrame(line.subarray(0, cut))).toBeUndefined();
    for (let cut = 1; cut < line.length; cut++) expect(decodeLinkFrame(line.subarray(cut))).toBeUndefined();
    for (let i = 0; i < line.length; i++) {
      const bad = Buffer.from(line);
      bad[i] ^= 0x01;
      expect(decodeLinkFrame(bad)).toBeUndefined();
    }
    expect(decodeLinkFrame(Buffer.from('{"jsonrpc":"2.0"}'))).toBeUndefined();
    expect(isLinkLine(Buffer.from('{"jsonrpc":"2.0"}'))).toBe(false);
  });

  test('CRC-32 matches the IEEE check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  test('refuses a payload with a newline', () => {
    expect(() => encodeLinkFrame('D', 1, 0, Buffer.from('a\nb'))).toThrow('newline');
  });
});

describe('ReliableLink', () => {
  test('delivers in order exactly once through loss, duplication and reordering, with resends', () => {
    const a = new ReliableLink();
    const b = new ReliableLink();
    const sent = Array.from({ length: 200 }, (_, i) => Buffer.from(`{"n":${i}}`));
    const wire = sent.map((p) => a.send(p));
    const got: string[] = [];
    const take = (frame: Buffer) => {
      const r = b.receive(strip(frame));
      if (r.type === 'deliver') got.push(r.payload.toString());
    };
    // Swap each pair of neighbours, lose every third frame, repeat every fifth; then the receiver
    // acks and the sender resends the rest.
    const reordered = wire.map((_, i) => (i % 2 === 0 ? Math.min(i + 1, wire.length - 1) : i - 1));
    expect(reordered.slice(0, 4)).toEqual([1, 0, 3, 2]);
    reordered.forEach((i) => {
      if (i % 3 !== 0) take(wire[i]);
      if (i % 5 === 0) take(wire[i]);
    });
    for (let round = 0; round < 200 && got.length < sent.length; round++) {
      const ack = b.takeAck();
      if (ack) a.receive(strip(ack));
      const again = a.unacked();
      again.forEach((f, i) => i % 2 === 0 && take(f)); // and lose half of the resends too
    }
    expect(got).toEqual(sent.map((p) => p.toString()));
    const ack = b.takeAck();
    if (ack) a.receive(strip(ack));
    expect(a.unackedCount).toBe(0);
    expect(a.unackedBytes).toBe(0);
  });

  test('acks ride on data frames and free the sender\'s memory', () => {
    const a = new ReliableLink();
    const b = new ReliableLink();
    b.receive(strip(a.send(Buffer.from('one'))));
    b.receive(strip(a.send(Buffer.from('two'))));
    expect(a.unackedCount).toBe(2);
    a.receive(strip(b.send(Buffer.from('reply')))); // carries ack=2
    expect(a.unackedCount).toBe(0);
  });

  test('a new peer starts over: old unacked data is dropped and numbering is announced', () => {
    const launcher = new ReliableLink();
    launcher.send(Buffer.from('for the old bridge'));
    launcher.resetForNewPeer();
    expect(launcher.unackedCount).toBe(0);
    const bridge = new ReliableLink();
    bridge.expectFrom(launcher.nextSequence);
    const r = bridge.receive(strip(launcher.send(Buffer.from('for the new bridge'))));
    expect(r).toMatchObject({ type: 'deliver', seq: 2 });
  });

  test('a frame beyond a gap is not delivered', () => {
    const a = new ReliableLink();
    const b = new ReliableLink();
    a.send(Buffer.from('lost'));
    expect(b.receive(strip(a.send(Buffer.from('second'))))).toMatchObject({ type: 'gap', seq: 2, expected: 1 });
  });
});
