/** IVF container framing (what `ffmpeg -f ivf -i pipe:0` reads) for VP8 frames fed to a decoder. */
export function ivfFileHeader(width = 640, height = 480, timebaseDen = 90000, fourcc: 'VP80' | 'H264' | 'I420' = 'VP80'): Buffer {
  const h = Buffer.alloc(32);
  h.write('DKIF', 0, 'ascii');
  h.writeUInt16LE(0, 4);
  h.writeUInt16LE(32, 6);
  h.write(fourcc, 8, 'ascii'); // ffmpeg's IVF demuxer also takes H264 (with in-band SPS/PPS) and I420 (raw yuv420p)
  h.writeUInt16LE(width, 12);
  h.writeUInt16LE(height, 14);
  h.writeUInt32LE(timebaseDen, 16);
  h.writeUInt32LE(1, 20);
  h.writeUInt32LE(0, 24);
  return h;
}

export function ivfFrameHeader(size: number, pts: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt32LE(size, 0);
  h.writeBigUInt64LE(BigInt(Math.max(0, Math.floor(pts))), 4);
  return h;
}
