/**
 * Makes finished files durable: each file's data is flushed to the disk (fsync), then its directory (so the renames
 * that put them in place survive a power loss too). A recording is `ready` only after this. Only node: built-ins.
 */
import { open } from 'node:fs/promises';

async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of every file, then of the directory holding them. Throws when any of it fails (the data is not safe). */
export async function makeDurable(files: readonly string[], dir: string): Promise<void> {
  for (const f of files) await fsyncPath(f);
  await fsyncPath(dir);
}
