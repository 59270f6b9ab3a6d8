import { flagPairs, pairs } from '../../../../test/support/arg-pairs';
import { HLS_FILE_RE, hlsArgs, playlistSegments, playlistWithToken } from './hls-args';

describe('HLS ffmpeg arguments', () => {
  const base = { dir: '/data/hls/room', run: 'k3x9', segmentSeconds: 1, listSize: 6 };
  it('copies H.264 into short TS segments with a bounded, self-cleaning live playlist', () => {
    const a = hlsArgs({ ...base, videoCodec: 'h264' });
    expect(flagPairs(a)).toEqual(expect.arrayContaining(pairs('-f', 'ivf', '-i', 'pipe:0', '-f', 'ogg', '-i', 'pipe:3', '-c:v', 'copy', '-c:a', 'aac')));
    expect(flagPairs(a)).toEqual(expect.arrayContaining(pairs('-f', 'hls', '-hls_time', '1', '-hls_list_size', '6', '-hls_segment_type', 'mpegts')));
    expect(a[a.indexOf('-hls_flags') + 1].split('+')).toEqual(expect.arrayContaining(['delete_segments', 'omit_endlist', 'temp_file', 'independent_segments']));
    expect(a.slice(-3)).toEqual(['-hls_segment_filename', '/data/hls/room/k3x9_%d.ts', '/data/hls/room/index.m3u8']);
    expect(a.join(' ')).not.toMatch(/libx264/);
  });
  it('transcodes VP8, which TS cannot carry', () => {
    const a = hlsArgs({ ...base, videoCodec: 'vp8', fps: 15 });
    expect(flagPairs(a)).toEqual(expect.arrayContaining(pairs('-c:v', 'libx264', '-g', '15')));
    expect(a[a.indexOf('-b:v') + 1]).toBe('1500k');
  });
  it('adds a low rendition and a master playlist when asked', () => {
    const a = hlsArgs({ ...base, videoCodec: 'h264', lowRendition: true });
    expect(flagPairs(a)).toEqual(expect.arrayContaining(pairs('-c:v:0', 'copy', '-c:v:1', 'libx264', '-filter:v:1', 'scale=640:360', '-master_pl_name', 'index.m3u8')));
    expect(a[a.indexOf('-b:v:1') + 1]).toBe('400k');
    expect(a.slice(-1)).toEqual(['/data/hls/room/%v.m3u8']);
  });
  it('refuses a run id that could be a path', () => {
    expect(() => hlsArgs({ ...base, run: '../x', videoCodec: 'h264' })).toThrow();
  });
  it('whitelists the files a viewer may fetch', () => {
    for (const ok of ['index.m3u8', 'hi.m3u8', 'lo.m3u8', 'k3x9_0.ts', 'k3x9_123.ts', 'k3x9_lo_7.ts']) expect(HLS_FILE_RE.test(ok)).toBe(true);
    for (const bad of ['../index.m3u8', 'index.m3u8.tmp', 'k3x9_1.ts.tmp', '..', '.ts', 'x/1.ts', 'K3_1.ts', 'a_1.mp4', '%2e%2e', 'index.M3U8']) {
      expect([bad, HLS_FILE_RE.test(bad)]).toEqual([bad, false]);
    }
  });
  it('puts the token on every URI of a playlist', () => {
    const pl = '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nk3x9_4.ts\n#EXTINF:1.0,\nk3x9_5.ts\n';
    const out = playlistWithToken(pl, 'a.b-c_d');
    expect(playlistSegments(out)).toEqual(['k3x9_4.ts?token=a.b-c_d', 'k3x9_5.ts?token=a.b-c_d']);
    expect(out.startsWith('#EXTM3U\n#EXT-X-TARGETDURATION:1\n')).toBe(true);
    expect(playlistWithToken('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhi.m3u8\n', 't')).toContain('hi.m3u8?token=t');
  });
});
