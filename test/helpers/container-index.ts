/**
 * Where a container keeps its index, read from the bytes (pure): MP4's top-level boxes (is moov before mdat?) and
 * Matroska's top-level elements (are the Cues before the Clusters?).
 *
 * The top-level boxes of an ISO BMFF (MP4) file, in file order (pure): each box starts with a 32-bit big-endian size
 * and a 4-character type; size 1 means a 64-bit size follows, size 0 means "to the end of the file".
 */
export interface Mp4Box {
  type: string;
  offset: number;
  size: number;
}

export function topLevelBoxes(file: Buffer): Mp4Box[] {
  const boxes: Mp4Box[] = [];
  let offset = 0;
  while (offset + 8 <= file.length) {
    let size = file.readUInt32BE(offset);
    const type = file.toString('latin1', offset + 4, offset + 8);
    if (size === 1) {
      if (offset + 16 > file.length) break;
      size = Number(file.readBigUInt64BE(offset + 8));
    } else if (size === 0) size = file.length - offset;
    if (size < 8 || offset + size > file.length || !/^[\x20-\x7e]{4}$/.test(type)) throw new Error(`not an MP4 box at offset ${offset} (size ${size}, type ${JSON.stringify(type)})`);
    boxes.push({ type, offset, size });
    offset += size;
  }
  return boxes;
}

/** Whether the index (moov) comes before the media (the first mdat): a player can seek without reading the whole file. */
export function moovBeforeMdat(file: Buffer): boolean {
  const types = topLevelBoxes(file).map((b) => b.type);
  const moov = types.indexOf('moov');
  const mdat = types.indexOf('mdat');
  return moov >= 0 && mdat >= 0 && moov < mdat;
}

/** Whether it is a fragmented MP4 (moof boxes: what the recorder writes, crash-safe; its moov is an empty one up front). */
export function isFragmented(file: Buffer): boolean {
  return topLevelBoxes(file).some((b) => b.type === 'moof');
}

/** A Matroska/EBML variable-length integer at `offset`: its value (marker bit removed unless `keepMarker`) and length. */
function vint(file: Buffer, offset: number, keepMarker: boolean): { value: number; length: number; unknown: boolean } {
  const first = file[offset];
  if (first === undefined || first === 0) throw new Error(`not an EBML number at offset ${offset}`);
  const length = Math.clz32(first) - 23;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === (0xff >> length);
  for (let i = 1; i < length; i++) {
    value = value * 256 + file[offset + i];
    allOnes &&= file[offset + i] === 0xff;
  }
  return { value, length, unknown: !keepMarker && allOnes };
}

const MATROSKA_NAMES: Record<number, string> = { 0x114d9b74: 'SeekHead', 0x1549a966: 'Info', 0x1654ae6b: 'Tracks', 0x1c53bb6b: 'Cues', 0x1f43b675: 'Cluster', 0x1254c367: 'Tags', 0x1043a770: 'Chapters', 0xec: 'Void' };

/** The elements directly inside a Matroska/WebM file's Segment, in file order (pure): names for the known ones. */
export function matroskaTopLevel(file: Buffer): string[] {
  let offset = 0;
  const out: string[] = [];
  while (offset < file.length) {
    const id = vint(file, offset, true);
    const size = vint(file, offset + id.length, false);
    const body = offset + id.length + size.length;
    if (id.value === 0x18538067) {
      offset = body; // the Segment: walk its children
      continue;
    }
    if (id.value === 0x1a45dfa3) {
      offset = body + size.value; // the EBML header
      continue;
    }
    out.push(MATROSKA_NAMES[id.value] ?? `0x${id.value.toString(16)}`);
    if (size.unknown) break; // a live cluster of unknown size: nothing after it can be found this way
    offset = body + size.value;
  }
  return out;
}
