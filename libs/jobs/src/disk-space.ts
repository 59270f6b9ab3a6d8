/** Free disk space of the recordings directory: a pure rule, and a thin statfs adapter. */
import { mkdir, statfs } from 'node:fs/promises';

const MIB = 1024 * 1024;

/** Free MiB for an unprivileged writer, from statfs numbers (pure). */
export const freeMibOf = (s: { bavail: number | bigint; bsize: number | bigint }): number => (Number(s.bavail) * Number(s.bsize)) / MIB;

/** Why there is not enough space (below `minMib`), or undefined when there is (pure). */
export function lowDiskProblem(freeMib: number, minMib: number, what: string): string | undefined {
  if (minMib <= 0 || freeMib >= minMib) return undefined;
  return `${what} has ${Math.floor(freeMib)} MB free, below the ${minMib} MB it needs`;
}

/** The free MiB of the filesystem holding `dir` (created when missing). */
export async function freeDiskMib(dir: string): Promise<number> {
  await mkdir(dir, { recursive: true });
  return freeMibOf(await statfs(dir));
}
