import { rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { finishingFileName, type Recording, recordingFileName, thumbnailFileName, thumbnailUrlOf } from './recording';
import { partFileName } from './recording-parts';

const sizeOf = (file: string): Promise<number> => stat(file).then((s) => s.size, () => 0);

/** Every file a recording may have in `dir`: its file, its parts, its thumbnail and the temporary files of finishing. */
export function recordingFiles(rec: Pick<Recording, 'id' | 'format' | 'parts'>, dir: string): string[] {
  const parts = (rec.parts ?? []).map((p) => partFileName(rec, p.index)).filter((f): f is string => f !== undefined);
  return [recordingFileName(rec.id, rec.format), ...parts, thumbnailFileName(rec.id), ...temporaryFiles(rec)].map((f) => path.join(dir, f));
}

/** The temporary files of finishing (a remux, a stitch, a thumbnail being written): never the recording's content. */
function temporaryFiles(rec: Pick<Recording, 'id' | 'format'>): string[] {
  return [finishingFileName(rec.id, rec.format), `${rec.id}.stitching.${rec.format}`, `${rec.id}.parts.txt`, `${rec.id}.tmp.jpg`];
}

/**
 * A `finishing` recording whose worker stopped (killed, crashed) and was not taken over: its files are as they were
 * recorded, so the recording falls back to them. The half-written temporary files are removed; the returned patch makes
 * it `ready` with a `warning` saying what it is (or `failed` when no file is left). A file is only ever replaced by a
 * verified one (a rename), so whatever `<id>.<ext>` is now, it is playable.
 */
export async function fallBackFromFinishing(rec: Recording, dir: string): Promise<Partial<Recording>> {
  for (const f of temporaryFiles(rec)) await rm(path.join(dir, f), { force: true }).catch(() => undefined);
  const endedAt = new Date().toISOString();
  const size = await sizeOf(path.join(dir, recordingFileName(rec.id, rec.format)));
  const thumb = (await sizeOf(path.join(dir, thumbnailFileName(rec.id)))) > 0 ? { thumbnailUrl: thumbnailUrlOf(rec.id) } : {};
  const parts = rec.parts ?? [];
  // with several parts, part 1 is renamed first and the stitched file takes the recording's name only once verified
  const stitched = parts.length > 1 && parts[0].fileName !== recordingFileName(rec.id, rec.format) && size > 0;
  if (parts.length > 1 && !stitched) {
    return { status: 'ready', endedAt, ...thumb, warning: `its worker stopped while stitching its ${parts.length} parts into one file; each part is kept and downloadable` };
  }
  if (size === 0) return { status: 'failed', endedAt, error: 'its worker stopped while finishing it, and its file is gone' };
  if (stitched) return { status: 'ready', endedAt, sizeBytes: size, ...thumb };
  return { status: 'ready', endedAt, sizeBytes: size, ...thumb, warning: 'its worker stopped while finishing it; the file is kept as recorded (playable, slower to seek)' };
}
