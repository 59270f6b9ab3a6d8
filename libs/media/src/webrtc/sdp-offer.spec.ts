import { ValidationError } from '@app/core';
import { codecMatches, parseOffer, planPublish, planSubscribe, restrictOfferCodecs } from './sdp-offer';

const session = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=fingerprint:sha-256 AA:BB', 'a=ice-ufrag:abcd', 'a=ice-pwd:x'];
const audio = (dir: string) => ['m=audio 9 UDP/TLS/RTP/SAVPF 111 0', 'a=mid:0', `a=${dir}`, 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:0 PCMU/8000'];
const video = (dir: string, codecs: string[]) => {
  const pts = codecs.map((_, i) => 96 + i);
  const lines = [`m=video 9 UDP/TLS/RTP/SAVPF ${pts.join(' ')}`, 'a=mid:1', `a=${dir}`];
  codecs.forEach((c, i) => {
    const [name, fmtp] = c.split('|');
    lines.push(`a=rtpmap:${96 + i} ${name}/90000`);
    if (fmtp) lines.push(`a=fmtp:${96 + i} ${fmtp}`);
  });
  return lines;
};
const sdp = (...parts: string[][]) => [...session, ...parts.flat()].join('\r\n') + '\r\n';

describe('parseOffer', () => {
  it('reads kinds, directions and codecs', () => {
    const m = parseOffer(sdp(audio('sendonly'), video('sendonly', ['VP8', 'H264|packetization-mode=1;profile-level-id=42e01f'])));
    expect(m.map((x) => [x.kind, x.direction, x.mid])).toEqual([
      ['audio', 'sendonly', '0'],
      ['video', 'sendonly', '1'],
    ]);
    expect(m[0].codecs[0]).toEqual({ payloadType: 111, name: 'opus', clockRate: 48000, channels: 2 });
    expect(m[1].codecs[1].fmtp).toContain('packetization-mode=1');
  });
  it.each([
    ['', 'v=0'],
    ['hello world', 'v=0'],
    ['v=0\r\nthis is not sdp\r\n', 'malformed'],
    [[...session].join('\r\n'), 'no media'],
    [['v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2'].join('\r\n'), 'ICE credentials'],
  ])('rejects %j', (body, msg) => {
    expect(() => parseOffer(body)).toThrow(ValidationError);
    expect(() => parseOffer(body)).toThrow(msg);
  });
});

describe('planPublish', () => {
  it('takes the first supported video codec in the offer order', () => {
    expect(planPublish(parseOffer(sdp(audio('sendonly'), video('sendonly', ['VP9', 'H264|packetization-mode=1', 'VP8']))))).toEqual({
      video: 'h264',
      audio: true,
    });
    expect(planPublish(parseOffer(sdp(video('sendrecv', ['VP8']))))).toEqual({ video: 'vp8', audio: false });
  });
  it('ignores H.264 without packetization-mode=1', () => {
    expect(() => planPublish(parseOffer(sdp(video('sendonly', ['H264|packetization-mode=0', 'AV1']))))).toThrow('no supported codec');
  });
  it('needs something to send', () => {
    expect(() => planPublish(parseOffer(sdp(audio('recvonly'))))).toThrow('sends no audio or video');
  });
});

describe('planSubscribe', () => {
  it('needs the room codec', () => {
    const offer = parseOffer(sdp(audio('recvonly'), video('recvonly', ['VP8'])));
    expect(planSubscribe(offer, 'vp8')).toEqual({ video: true, audio: true });
    expect(() => planSubscribe(offer, 'h264')).toThrow("room's video codec H.264");
  });
  it('accepts audio-only viewers', () => {
    expect(planSubscribe(parseOffer(sdp(audio('recvonly'))), 'h264')).toEqual({ video: false, audio: true });
  });
});

describe('restrictOfferCodecs', () => {
  const chrome = sdp(video('recvonly', ['VP8', 'rtx|apt=96', 'H264|packetization-mode=0;profile-level-id=42001f', 'H264|packetization-mode=1;profile-level-id=42e01f', 'rtx|apt=99', 'red']));
  it('keeps only accepted codecs and their RTX, in the offer order', () => {
    const out = restrictOfferCodecs(chrome, (_k, c) => codecMatches(c, 'h264'));
    const m = parseOffer(out)[0];
    expect(m.codecs.map((c) => `${c.name}:${c.payloadType}`)).toEqual(['H264:99', 'rtx:100']);
    expect(out).not.toContain('a=rtpmap:96 ');
    expect(out).not.toContain('a=fmtp:98 ');
    expect(out).toContain('a=fmtp:99 packetization-mode=1');
    expect(out.endsWith('\r\n')).toBe(true);
  });
  it('leaves other sections and session lines alone', () => {
    const offer = sdp(audio('sendonly'), video('sendonly', ['VP8']));
    expect(restrictOfferCodecs(offer, (k, c) => (k === 'audio' ? codecMatches(c, 'opus') : true))).toBe(offer.replace(' 111 0\r\n', ' 111\r\n').replace('a=rtpmap:0 PCMU/8000\r\n', ''));
  });
});
