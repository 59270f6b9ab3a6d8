import { PassThrough } from 'node:stream';
import { MixPipeWriter } from './mix-pipe-writer';

const frame = (isKeyframe: boolean, timestamp: number, size = 1000) => ({ data: Buffer.alloc(size, isKeyframe ? 1 : 2), isKeyframe, timestamp });

describe('MixPipeWriter', () => {
  it('starts video and audio together at the first keyframe', () => {
    const v = new PassThrough();
    const a = new PassThrough();
    let started = 0;
    const w = new MixPipeWriter(v, a, 'h264', { onStart: () => started++ });
    w.audio(Buffer.from([1, 2, 3]), 960);
    w.video(frame(false, 0));
    expect(v.readableLength).toBe(0);
    expect(a.readableLength).toBe(0);
    w.video(frame(true, 3000));
    expect(started).toBe(1);
    expect(v.read(4).toString('latin1')).toBe('DKIF');
    expect(a.read(4).toString('latin1')).toBe('OggS');
  });

  it('audio only starts at once and ignores video', () => {
    const a = new PassThrough();
    let started = 0;
    const w = new MixPipeWriter(undefined, a, undefined, { audioOnly: true, onStart: () => started++ });
    expect(started).toBe(1);
    w.video(frame(true, 0));
    w.audio(Buffer.from([1, 2, 3]), 960);
    expect(a.readableLength).toBeGreaterThan(0);
  });

  it('when ffmpeg stops reading, drops video until the next keyframe and drops audio, never buffering without bound', () => {
    const v = new PassThrough({ highWaterMark: 1 });
    const a = new PassThrough({ highWaterMark: 1 });
    const w = new MixPipeWriter(v, a, 'h264', { maxBacklogBytes: 5000 });
    w.video(frame(true, 0, 4000));
    for (let i = 1; i <= 10; i++) w.video(frame(false, i * 3000, 4000)); // nobody reads: the backlog passes 5000
    const backlog = v.writableLength;
    expect(backlog).toBeLessThan(5000 + 4000 + 64);
    expect(w.droppedVideoFrames).toBeGreaterThan(5);
    for (let i = 0; i < 100; i++) w.audio(Buffer.alloc(200), i * 960);
    expect(w.droppedAudioPackets).toBeGreaterThan(50);
    // ffmpeg catches up: the next delta frame is still dropped (no keyframe yet), the next keyframe goes in
    v.resume();
    v.read();
    v.on('data', () => undefined);
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        const dropped = w.droppedVideoFrames;
        w.video(frame(false, 99_000));
        expect(w.droppedVideoFrames).toBe(dropped + 1);
        w.video(frame(true, 102_000));
        expect(w.droppedVideoFrames).toBe(dropped + 1);
        resolve();
      }),
    );
  });
});
