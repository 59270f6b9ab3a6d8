import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import OpusScript from 'opusscript';
import { oggCrc, OggOpusWriter } from './ogg-opus';

describe('Ogg Opus muxer', () => {
  it('computes the Ogg CRC (poly 0x04c11db7, no reflection)', () => {
    expect(oggCrc(Buffer.from('123456789'))).toBe(0x89a1897f);
  });

  it('writes a file ffmpeg reads with the right duration and tone', () => {
    const enc = new OpusScript(48000, 1, OpusScript.Application.AUDIO);
    const w = new OggOpusWriter(1);
    const parts = [w.header()];
    let ts = 123456;
    for (let n = 0; n < 100; n++) {
      const pcm = Buffer.alloc(1920);
      for (let i = 0; i < 960; i++) pcm.writeInt16LE(Math.round(10000 * Math.sin((2 * Math.PI * 1000 * (n * 960 + i)) / 48000)), i * 2);
      parts.push(w.packet(enc.encode(pcm, 960), ts));
      ts += 960;
    }
    enc.delete();
    const dir = mkdtempSync(path.join(tmpdir(), 'ogg-'));
    const file = path.join(dir, 'a.ogg');
    writeFileSync(file, Buffer.concat(parts));
    const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name,channels', '-of', 'json', file], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    const info = JSON.parse(probe.stdout);
    expect(info.streams[0]).toMatchObject({ codec_name: 'opus', channels: 1 });
    expect(Number(info.format.duration)).toBeCloseTo(2.0, 1);
  });
});
