import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Recording } from './recording';
import { fallBackFromFinishing, recordingFiles } from './recording-files';

describe('a recording whose worker stopped while finishing it falls back to its files as recorded', () => {
  let dir: string;
  const id = 'rec_00000000000000ab';
  const rec = (o: Partial<Recording> = {}): Recording => ({
    id, room: 'r', name: 'n', format: 'mp4', audioOnly: false, status: 'finishing', createdAt: '', seq: 5, durationSeconds: 9.5,
    parts: [{ index: 1, fileName: `${id}.mp4`, startedAt: '', durationSeconds: 9.5 }], ...o,
  });
  const put = (name: string, bytes = 100) => writeFileSync(path.join(dir, name), Buffer.alloc(bytes, 1));
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'rec-files-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('one file: ready with a warning, the half-written temporary file removed, the file kept', async () => {
    put(`${id}.mp4`, 1234);
    put(`${id}.finishing.mp4`);
    put(`${id}.tmp.jpg`);
    const patch = await fallBackFromFinishing(rec(), dir);
    expect(patch).toMatchObject({ status: 'ready', sizeBytes: 1234, warning: expect.stringMatching(/kept as recorded/) });
    expect(patch).not.toHaveProperty('thumbnailUrl');
    expect(readdirSync(dir)).toEqual([`${id}.mp4`]);
  });

  it('a thumbnail already written is kept and served', async () => {
    put(`${id}.mp4`);
    put(`${id}.jpg`);
    expect(await fallBackFromFinishing(rec(), dir)).toMatchObject({ status: 'ready', thumbnailUrl: `/v1/recordings/${id}/thumbnail` });
  });

  it('no file left: failed, saying so', async () => {
    expect(await fallBackFromFinishing(rec(), dir)).toMatchObject({ status: 'failed', error: expect.stringMatching(/file is gone/) });
  });

  it('parts not stitched yet: ready with the parts, saying so; a stitched file (only renamed once verified): ready', async () => {
    const parts = [
      { index: 1, fileName: `${id}.part1.mp4`, startedAt: '', durationSeconds: 4 },
      { index: 2, fileName: `${id}.part2.mp4`, startedAt: '', durationSeconds: 5 },
    ];
    put(`${id}.part1.mp4`);
    put(`${id}.part2.mp4`);
    put(`${id}.stitching.mp4`);
    put(`${id}.parts.txt`);
    expect(await fallBackFromFinishing(rec({ parts }), dir)).toMatchObject({ status: 'ready', warning: expect.stringMatching(/each part is kept/) });
    expect(readdirSync(dir).sort()).toEqual([`${id}.part1.mp4`, `${id}.part2.mp4`]);
    put(`${id}.mp4`, 500);
    const stitched = await fallBackFromFinishing(rec({ parts }), dir);
    expect(stitched).toMatchObject({ status: 'ready', sizeBytes: 500 });
    expect(stitched).not.toHaveProperty('warning');
  });

  it('lists every file a recording may have, for its deletion', () => {
    const files = recordingFiles(rec({ parts: [{ index: 1, fileName: `${id}.part1.mp4`, startedAt: '' }, { index: 2, fileName: `${id}.part2.mp4`, startedAt: '' }] }), dir).map((f) => path.basename(f));
    expect(files).toEqual([`${id}.mp4`, `${id}.part1.mp4`, `${id}.part2.mp4`, `${id}.jpg`, `${id}.finishing.mp4`, `${id}.stitching.mp4`, `${id}.parts.txt`, `${id}.tmp.jpg`]);
    expect(existsSync(dir)).toBe(true);
  });
});
