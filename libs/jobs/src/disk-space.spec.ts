import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freeDiskMib, freeMibOf, lowDiskProblem } from './disk-space';

describe('free disk space', () => {
  it('counts the blocks an unprivileged writer may use', () => {
    expect(freeMibOf({ bavail: 256, bsize: 4096 })).toBe(1);
    expect(freeMibOf({ bavail: 512n, bsize: 4096n })).toBe(2);
  });

  it('says when there is less than the minimum, and never when the minimum is 0', () => {
    expect(lowDiskProblem(499.9, 500, 'RECORDINGS_DIR')).toBe('RECORDINGS_DIR has 499 MB free, below the 500 MB it needs');
    expect(lowDiskProblem(500, 500, 'RECORDINGS_DIR')).toBeUndefined();
    expect(lowDiskProblem(0, 0, 'RECORDINGS_DIR')).toBeUndefined();
  });

  it('reads a real filesystem, creating the directory', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'disk-'));
    try {
      const free = await freeDiskMib(path.join(base, 'a', 'b'));
      expect(free).toBeGreaterThan(0);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
