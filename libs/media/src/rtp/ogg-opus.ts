/**
 * A minimal Ogg Opus muxer (RFC 7845): one Opus packet per page, granule positions from the RTP timestamps (48 kHz).
 * Lets the recorder hand Opus to ffmpeg on a pipe without re-encoding it.
 */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

export function oggCrc(buf: Buffer): number {
  let crc = 0;
  for (const b of buf) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) & 0xff) ^ b]) >>> 0;
  return crc >>> 0;
}

export function oggPage(o: { packet: Buffer; granule: bigint; serial: number; seq: number; bos?: boolean; eos?: boolean }): Buffer {
  const segments: number[] = [];
  let left = o.packet.length;
  while (left >= 255) {
    segments.push(255);
    left -= 255;
  }
  segments.push(left);
  if (segments.length > 255) throw new RangeError('packet too large for one Ogg page');
  const header = Buffer.alloc(27 + segments.length);
  header.write('OggS', 0, 'ascii');
  header[4] = 0;
  header[5] = (o.bos ? 0x02 : 0) | (o.eos ? 0x04 : 0);
  header.writeBigInt64LE(o.granule, 6);
  header.writeUInt32LE(o.serial >>> 0, 14);
  header.writeUInt32LE(o.seq >>> 0, 18);
  header.writeUInt32LE(0, 22);
  header[26] = segments.length;
  segments.forEach((s, i) => (header[27 + i] = s));
  const page = Buffer.concat([header, o.packet]);
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

export class OggOpusWriter {
  private seq = 0;
  private firstTs?: number;
  private lastGranule = 0n;
  private readonly serial = (Math.random() * 0xffffffff) >>> 0;

  constructor(private readonly channels = 1) {}

  /** The two header pages (OpusHead, OpusTags). */
  header(): Buffer {
    const head = Buffer.alloc(19);
    head.write('OpusHead', 0, 'ascii');
    head[8] = 1;
    head[9] = this.channels;
    head.writeUInt16LE(0, 10); // pre-skip
    head.writeUInt32LE(48000, 12);
    head.writeInt16LE(0, 16);
    head[18] = 0;
    const vendor = Buffer.from('werift-mcu');
    const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
    tags.write('OpusTags', 0, 'ascii');
    tags.writeUInt32LE(vendor.length, 8);
    vendor.copy(tags, 12);
    tags.writeUInt32LE(0, 12 + vendor.length);
    return Buffer.concat([
      oggPage({ packet: head, granule: 0n, serial: this.serial, seq: this.seq++, bos: true }),
      oggPage({ packet: tags, granule: 0n, serial: this.serial, seq: this.seq++ }),
    ]);
  }

  /** One audio page. `rtpTimestamp` is the packet's RTP timestamp (48 kHz); `samples` its duration (960 = 20 ms). */
  packet(opus: Buffer, rtpTimestamp: number, samples = 960): Buffer {
    this.firstTs ??= rtpTimestamp;
    const offset = BigInt((rtpTimestamp - this.firstTs) >>> 0);
    let granule = offset + BigInt(samples);
    if (granule <= this.lastGranule) granule = this.lastGranule + BigInt(samples); // never go back
    this.lastGranule = granule;
    return oggPage({ packet: opus, granule, serial: this.serial, seq: this.seq++ });
  }
}
