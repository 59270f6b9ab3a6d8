import { commandOf, descendantsOf } from '../../apps/server/src/metrics/proc-children';

/**
 * The rooms' ffmpeg decoders under this (test) process, by pid: ffmpeg grandchildren (started through the spawner)
 * that listen on a unix socket in a `mcu-dec-` directory (libs/media/src/mixer/video-input.ts). The test's own ffmpeg
 * children (synthetic publishers) and the mixers' encoders do not match.
 */
export function roomDecoderPids(): number[] {
  return descendantsOf(process.pid)
    .filter((p) => commandOf(p.argv[0] ?? '').startsWith('ffmpeg') && p.argv.some((a) => a.startsWith('unix:') && a.includes('mcu-dec-')))
    .map((p) => p.pid);
}
