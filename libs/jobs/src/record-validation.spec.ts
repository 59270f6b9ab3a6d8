import { livestreamRecordProblem, recordingRecordProblem } from './record-validation';

const rec = {
  id: 'rec_0123456789abcdef',
  room: 'room-1',
  name: 'room-1-2026',
  format: 'mp4',
  audioOnly: false,
  status: 'active',
  createdAt: '2026-12-02T02:00:00.000Z',
  seq: 3,
  rev: 7,
  runId: 'e2b1c3d4-0000-4000-8000-000000000000',
  parts: [
    { index: 1, fileName: 'rec_0123456789abcdef.part1.mp4', startedAt: '2026-12-02T02:00:01.000Z', durationSeconds: 3, sizeBytes: 100 },
    { index: 2, fileName: 'rec_0123456789abcdef.part2.mp4', startedAt: '2026-12-02T02:00:09.000Z' },
  ],
  thumbnailUrl: '/v1/recordings/rec_0123456789abcdef/thumbnail',
};
const ls = { id: 'ls_0123456789abcdef', room: 'room-1', url: 'rtmp://live.example/app/key', status: 'active', createdAt: '2026-12-02T02:00:00.000Z', startedAt: '2026-12-02T02:00:00.000Z', failedAttempts: 0, reconnects: 1, seq: 2 };

describe('records read back from Redis', () => {
  it('accepts what the stores write', () => {
    expect(recordingRecordProblem(rec)).toBeUndefined();
    expect(recordingRecordProblem({ ...rec, parts: [{ index: 1, fileName: 'rec_0123456789abcdef.mp4', startedAt: rec.createdAt }] })).toBeUndefined();
    expect(livestreamRecordProblem(ls)).toBeUndefined();
  });

  it.each([
    ['a format that is a path', { format: '../../../etc/cron.d/x' }, /format/],
    ['a format with a slash', { format: 'mp4/../../x' }, /format/],
    ['an id that is not one', { id: '../rec_0123456789abcdef' }, /id/],
    ['a part file outside the naming scheme', { parts: [{ index: 1, fileName: '../../../etc/passwd', startedAt: rec.createdAt }] }, /part/],
    ["a part file of another recording", { parts: [{ index: 1, fileName: 'rec_ffffffffffffffff.mp4', startedAt: rec.createdAt }] }, /part/],
    ['a part index that is not a number', { parts: [{ index: '1', fileName: 'rec_0123456789abcdef.part1.mp4', startedAt: rec.createdAt }] }, /part/],
    ['parts that are not a list', { parts: 'x' }, /parts/],
    ['an unknown status', { status: 'recording' }, /status/],
    ['audioOnly not a boolean', { audioOnly: 'no' }, /audioOnly/],
    ['a seq that is not a count', { seq: -1 }, /seq/],
    ['a room name with a path', { room: '../x' }, /room/],
    ['a thumbnail URL elsewhere', { thumbnailUrl: 'https://evil.example/x.jpg' }, /thumbnailUrl/],
    ['a name with control characters', { name: 'a\nb' }, /name/],
  ])('refuses a recording with %s', (_what, patch, problem) => {
    expect(recordingRecordProblem({ ...rec, ...patch })).toMatch(problem);
  });

  it.each([null, 'x', 42, [], {}])('refuses %p as a recording', (v) => {
    expect(recordingRecordProblem(v)).toBeDefined();
  });

  it.each([
    ['a file URL (it reaches ffmpeg)', { url: 'file:/etc/passwd' }, /url/],
    ['a concat URL', { url: 'concat:rtmp://a/b|file:/etc/passwd' }, /url/],
    ['an id that is not one', { id: 'ls_../../x' }, /id/],
    ['an unknown status', { status: 'pushing' }, /status/],
    ['a failedAttempts that is not a count', { failedAttempts: 'many' }, /failedAttempts/],
  ])('refuses a livestream with %s', (_what, patch, problem) => {
    expect(livestreamRecordProblem({ ...ls, ...patch })).toMatch(problem);
  });
});
