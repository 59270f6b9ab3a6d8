import { isFragmented, matroskaTopLevel, moovBeforeMdat, topLevelBoxes } from './container-index';

const box = (type: string, payload = 0) => {
  const b = Buffer.alloc(8 + payload);
  b.writeUInt32BE(8 + payload, 0);
  b.write(type, 4, 'latin1');
  return b;
};
const largeBox = (type: string, payload: number) => {
  const b = Buffer.alloc(16 + payload);
  b.writeUInt32BE(1, 0);
  b.write(type, 4, 'latin1');
  b.writeBigUInt64BE(BigInt(16 + payload), 8);
  return b;
};

describe('top-level MP4 boxes', () => {
  it('lists them in order with offsets and sizes, 64-bit sizes and "to the end" included', () => {
    const zeroSized = box('mdat', 4);
    zeroSized.writeUInt32BE(0, 0);
    const file = Buffer.concat([box('ftyp', 12), largeBox('moov', 3), box('free'), zeroSized]);
    expect(topLevelBoxes(file)).toEqual([
      { type: 'ftyp', offset: 0, size: 20 },
      { type: 'moov', offset: 20, size: 19 },
      { type: 'free', offset: 39, size: 8 },
      { type: 'mdat', offset: 47, size: 12 },
    ]);
  });
  it('says whether moov comes before mdat (faststart) or after (a plain or fragmented file)', () => {
    expect(moovBeforeMdat(Buffer.concat([box('ftyp'), box('moov', 4), box('mdat', 4)]))).toBe(true);
    expect(moovBeforeMdat(Buffer.concat([box('ftyp'), box('mdat', 4), box('moov', 4)]))).toBe(false);
    const fragmented = Buffer.concat([box('ftyp'), box('moov'), box('moof', 4), box('mdat', 4)]);
    expect(moovBeforeMdat(fragmented)).toBe(true); // an empty moov up front: fragmented, not faststart
    expect(isFragmented(fragmented)).toBe(true);
    expect(isFragmented(Buffer.concat([box('ftyp'), box('moov', 4), box('mdat', 4)]))).toBe(false);
    expect(moovBeforeMdat(box('ftyp'))).toBe(false);
  });
  it('refuses what is not MP4', () => {
    expect(() => topLevelBoxes(Buffer.from('this is not an mp4 file'))).toThrow(/not an MP4 box/);
    expect(() => topLevelBoxes(box('moov', 8).subarray(0, 12))).toThrow(/not an MP4 box/); // cut short
  });
});

describe('top-level Matroska elements', () => {
  const el = (id: number[], payload: number[]) => Buffer.from([...id, 0x80 | payload.length, ...payload]);
  it('walks the EBML header and the Segment, naming its children in order', () => {
    const children = Buffer.concat([el([0x11, 0x4d, 0x9b, 0x74], [1, 2]), el([0x1c, 0x53, 0xbb, 0x6b], [3]), el([0x1f, 0x43, 0xb6, 0x75], [4, 5, 6])]);
    const segment = Buffer.concat([Buffer.from([0x18, 0x53, 0x80, 0x67, 0x80 | children.length]), children]);
    const file = Buffer.concat([el([0x1a, 0x45, 0xdf, 0xa3], [0x42, 0x86, 0x81, 0x01]), segment]);
    expect(matroskaTopLevel(file)).toEqual(['SeekHead', 'Cues', 'Cluster']);
  });
});
