import { newRecordingId } from './recording';
import { concatListFile, partFileName, partsTotals, reconnectDelayMs, recordingPartFileName, stitchProblem } from './recording-parts';

describe('recording parts', () => {
  it('names part files from the server id and the part number only', () => {
    const id = newRecordingId();
    expect(recordingPartFileName(id, 'mp4', 2)).toBe(`${id}.part2.mp4`);
    expect(recordingPartFileName(id, 'webm', 1)).toBe(`${id}.part1.webm`);
    expect(() => recordingPartFileName('../x', 'mp4', 2)).toThrow();
    expect(() => recordingPartFileName(id, 'mp4', 0)).toThrow('part');
    expect(() => recordingPartFileName(id, 'mp4', 1.5)).toThrow('part');
  });

  it("serves a listed part's file, derived from the id and never from the stored string", () => {
    const id = newRecordingId();
    const one = { id, format: 'mp4' as const, parts: [{ index: 1, fileName: `${id}.mp4`, startedAt: '' }] };
    expect(partFileName(one, 1)).toBe(`${id}.mp4`);
    expect(partFileName(one, 2)).toBeUndefined();
    expect(partFileName({ id, format: 'mp4', parts: undefined }, 1)).toBeUndefined();
    const two = { id, format: 'webm' as const, parts: [{ index: 1, fileName: `${id}.part1.webm`, startedAt: '' }, { index: 2, fileName: '../../etc/passwd', startedAt: '' }] };
    expect(partFileName(two, 1)).toBe(`${id}.part1.webm`);
    expect(partFileName(two, 2)).toBe(`${id}.part2.webm`);
  });

  it('adds up durations and sizes, counting a part in progress as far as it got', () => {
    expect(partsTotals([])).toEqual({ durationSeconds: 0, sizeBytes: 0 });
    expect(partsTotals([{ durationSeconds: 10.004, sizeBytes: 100 }, { durationSeconds: 2.5 }, { sizeBytes: 7 }])).toEqual({ durationSeconds: 12.5, sizeBytes: 107 });
  });

  it('backs off 0.5 s, 1 s, 2 s, 4 s, then 5 s', () => {
    expect([0, 1, 2, 3, 4, 10].map(reconnectDelayMs)).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
  });

  it("writes the concat demuxer's list with each path quoted", () => {
    expect(concatListFile(['/r/a.part1.mp4', "/it's/b.part2.mp4"])).toBe("ffconcat version 1.0\nfile '/r/a.part1.mp4'\nfile '/it'\\''s/b.part2.mp4'\n");
  });

  it('accepts a stitched file within 2 s (or 1 %) of the sum of its parts', () => {
    expect(stitchProblem(15.2, [10, 4.9])).toBeUndefined();
    expect(stitchProblem(7, [10, 5])).toMatch(/lasts 7.0 s, the parts 15.0 s/);
    expect(stitchProblem(3598, [1800, 1800])).toBeUndefined(); // 1 % of an hour
    expect(stitchProblem(undefined, [1, 2])).toMatch(/not playable/);
  });
});
