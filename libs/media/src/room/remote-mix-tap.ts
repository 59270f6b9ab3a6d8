import type { VideoCodec } from '@app/core';
import type { EncodedFrame } from '../mixer/video-input';
import { TapBase } from './mix-tap';

/**
 * The main thread's end of a tap on a room's mix: frames and Opus packets assembled in the room's worker arrive here
 * by message. What a recorder or the HLS output inside this process reads.
 */
export class RemoteMixTap extends TapBase {
  videoCodec?: VideoCodec;

  constructor(
    readonly id: string,
    onClose: () => void,
  ) {
    super(onClose);
  }

  pushVideo(frame: EncodedFrame): void {
    if (this.closed) return;
    this.lastMediaAt = Date.now();
    // structured clone turns a Buffer into a plain Uint8Array: view the same memory as a Buffer again
    const data = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
    this.emit('video', { ...frame, data });
  }

  pushAudio(opus: Uint8Array, rtpTimestamp: number): void {
    if (this.closed) return;
    this.lastMediaAt = Date.now();
    this.emit('audio', Buffer.from(opus.buffer, opus.byteOffset, opus.byteLength), rtpTimestamp);
  }
}
