import { ValidationError, type VideoCodec } from '@app/core';

/** Pure checks of a WHIP/WHEP SDP offer before werift sees it: shape, directions and codecs. */
export interface OfferCodec {
  payloadType: number;
  name: string;
  clockRate: number;
  channels?: number;
  fmtp?: string;
}

export interface OfferMedia {
  kind: 'audio' | 'video' | 'application' | 'other';
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  mid?: string;
  rejected: boolean;
  codecs: OfferCodec[];
}

/** Parses the parts of an SDP offer the MCU cares about. Throws ValidationError('invalid_sdp') on garbage. */
export function parseOffer(sdp: string): OfferMedia[] {
  if (typeof sdp !== 'string' || !/^v=0\r?\n/.test(sdp)) throw new ValidationError('body is not an SDP offer (must start with "v=0")', 'invalid_sdp');
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.some((l) => !/^[a-z]=/.test(l))) throw new ValidationError('SDP has a malformed line', 'invalid_sdp');
  const media: OfferMedia[] = [];
  let sessionDirection: OfferMedia['direction'] = 'sendrecv';
  let current: OfferMedia | undefined;
  let hasFingerprint = false;
  let hasUfrag = false;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      const m = /^m=(\S+) (\d+)(?:\/\d+)? (\S+)((?: \S+)*)$/.exec(line);
      if (!m) throw new ValidationError(`SDP has a malformed m-line: ${line.slice(0, 80)}`, 'invalid_sdp');
      const kind = ['audio', 'video', 'application'].includes(m[1]) ? (m[1] as OfferMedia['kind']) : 'other';
      current = { kind, direction: sessionDirection, rejected: m[2] === '0', codecs: [] };
      const pts = m[4].trim().split(' ').filter(Boolean);
      if (kind === 'audio' || kind === 'video') {
        for (const pt of pts) if (/^\d+$/.test(pt)) current.codecs.push({ payloadType: Number(pt), name: '', clockRate: 0 });
      }
      media.push(current);
      continue;
    }
    if (line.startsWith('a=fingerprint:')) hasFingerprint = true;
    if (line.startsWith('a=ice-ufrag:')) hasUfrag = true;
    const dir = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(line);
    if (dir) {
      if (current) current.direction = dir[1] as OfferMedia['direction'];
      else sessionDirection = dir[1] as OfferMedia['direction'];
      continue;
    }
    if (!current) continue;
    const mid = /^a=mid:(\S+)$/.exec(line);
    if (mid) current.mid = mid[1];
    const rtpmap = /^a=rtpmap:(\d+) ([^/\s]+)\/(\d+)(?:\/(\d+))?$/.exec(line);
    if (rtpmap) {
      const c = current.codecs.find((x) => x.payloadType === Number(rtpmap[1]));
      if (c) {
        c.name = rtpmap[2];
        c.clockRate = Number(rtpmap[3]);
        if (rtpmap[4]) c.channels = Number(rtpmap[4]);
      }
    }
    const fmtp = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (fmtp) {
      const c = current.codecs.find((x) => x.payloadType === Number(fmtp[1]));
      if (c) c.fmtp = fmtp[2];
    }
  }
  if (media.length === 0) throw new ValidationError('SDP offer has no media section', 'invalid_sdp');
  if (!hasFingerprint || !hasUfrag) throw new ValidationError('SDP offer lacks ICE credentials or a DTLS fingerprint', 'invalid_sdp');
  return media;
}

const fmtpParams = (fmtp = ''): Record<string, string> =>
  Object.fromEntries(
    fmtp
      .split(';')
      .map((kv) => kv.trim().split('='))
      .filter((kv) => kv.length === 2)
      .map(([k, v]) => [k.toLowerCase(), v]),
  );

/** Is this offered codec one of ours? H.264 needs packetization-mode=1 (what browsers and our depacketizer use). */
export function codecMatches(c: OfferCodec, want: 'vp8' | 'h264' | 'opus'): boolean {
  const name = c.name.toLowerCase();
  if (want === 'opus') return name === 'opus' && c.clockRate === 48000;
  if (want === 'vp8') return name === 'vp8' && c.clockRate === 90000;
  if (name !== 'h264' || c.clockRate !== 90000) return false;
  const p = fmtpParams(c.fmtp);
  return p['packetization-mode'] === '1';
}

export interface PublishPlan {
  /** The video codec we will receive (the first of ours in the offer's order), if the offer sends video. */
  video?: VideoCodec;
  audio: boolean;
}

/** WHIP: what the publisher will send. Needs at least one sending audio/video section with a codec we accept. */
export function planPublish(media: OfferMedia[]): PublishPlan {
  const sends = (m: OfferMedia) => !m.rejected && (m.direction === 'sendonly' || m.direction === 'sendrecv');
  const videos = media.filter((m) => m.kind === 'video' && sends(m));
  const audios = media.filter((m) => m.kind === 'audio' && sends(m));
  if (videos.length > 1 || audios.length > 1) {
    throw new ValidationError('a WHIP offer may carry one audio and one video track', 'bad_request');
  }
  if (!videos.length && !audios.length) throw new ValidationError('WHIP offer sends no audio or video (need a sendonly or sendrecv section)', 'invalid_sdp');
  let video: PublishPlan['video'];
  if (videos.length) {
    const c = videos[0].codecs.find((x) => codecMatches(x, 'vp8') || codecMatches(x, 'h264'));
    if (!c) throw new ValidationError('WHIP offer video has no supported codec: offer VP8 or H.264 (packetization-mode=1)', 'codec_unsupported');
    video = codecMatches(c, 'vp8') ? 'vp8' : 'h264';
  }
  if (audios.length && !audios[0].codecs.some((x) => codecMatches(x, 'opus'))) {
    throw new ValidationError('WHIP offer audio has no supported codec: offer Opus/48000', 'codec_unsupported');
  }
  return { ...(video ? { video } : {}), audio: audios.length > 0 };
}

export interface SubscribePlan {
  video: boolean;
  audio: boolean;
}

/** WHEP: the subscriber must be able to receive the room's video codec (and Opus). */
export function planSubscribe(media: OfferMedia[], roomCodec: VideoCodec): SubscribePlan {
  const recvs = (m: OfferMedia) => !m.rejected && (m.direction === 'recvonly' || m.direction === 'sendrecv');
  const video = media.find((m) => m.kind === 'video' && recvs(m));
  const audio = media.find((m) => m.kind === 'audio' && recvs(m));
  if (!video && !audio) throw new ValidationError('WHEP offer receives no audio or video (need a recvonly section)', 'invalid_sdp');
  if (video && !video.codecs.some((c) => codecMatches(c, roomCodec))) {
    throw new ValidationError(
      `WHEP offer cannot receive this room's video codec ${roomCodec === 'h264' ? 'H.264 (packetization-mode=1)' : 'VP8'}`,
      'codec_unsupported',
    );
  }
  if (audio && !audio.codecs.some((c) => codecMatches(c, 'opus'))) {
    throw new ValidationError('WHEP offer audio has no supported codec: offer Opus/48000', 'codec_unsupported');
  }
  return { video: Boolean(video), audio: Boolean(audio) };
}

/**
 * Removes from an offer's audio/video sections every payload type `keep` rejects (with its rtpmap, fmtp and rtcp-fb
 * lines, and RTX/RED that point at it), so the answer lists only what the MCU handles. werift answers with the offer's
 * remaining codecs in order and sends with the first, so this also decides the codec (e.g. H.264 packetization-mode=1,
 * never mode 0, whatever order a browser offers them in).
 */
export function restrictOfferCodecs(sdp: string, keep: (kind: 'audio' | 'video', codec: OfferCodec) => boolean): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  const media = parseOffer(sdp);
  const out: string[] = [];
  let section = -1;
  let drop = new Set<number>();
  for (const line of lines) {
    if (line.startsWith('m=')) {
      section++;
      const m = media[section];
      drop = new Set<number>();
      if (m && (m.kind === 'audio' || m.kind === 'video')) {
        const kept = new Set(m.codecs.filter((c) => keep(m.kind as 'audio' | 'video', c)).map((c) => c.payloadType));
        for (const c of m.codecs) {
          const apt = /(?:^|;)\s*apt=(\d+)/.exec(c.fmtp ?? '');
          const isRepair = ['rtx', 'red', 'ulpfec', 'flexfec-03'].includes(c.name.toLowerCase());
          if (isRepair) {
            // keep a repair codec only if what it repairs is kept (RED/FEC: drop; the mixer does not use them)
            if (!(c.name.toLowerCase() === 'rtx' && apt && kept.has(Number(apt[1])))) drop.add(c.payloadType);
          } else if (!kept.has(c.payloadType)) drop.add(c.payloadType);
        }
        const parts = line.split(' ');
        const pts = parts.slice(3).filter((pt) => !drop.has(Number(pt)));
        out.push([...parts.slice(0, 3), ...pts].join(' '));
        continue;
      }
    }
    const ref = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)[ ]/.exec(line);
    if (ref && drop.has(Number(ref[1]))) continue;
    out.push(line);
  }
  return out.join(eol);
}
