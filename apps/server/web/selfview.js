// Self-view without lag: your own camera comes back inside the mix a round trip late, so the page draws the local
// camera over your own tile of the mix — the tile's rectangle (from layoutChanged) scaled to the <video> showing the
// mix, filled like the tile (cover or contain) — and moves it when the layout changes.

/**
 * Where a tile of the mix appears in an element showing the mix `object-fit: contain` (the <video> default): the
 * canvas scaled to fit the element's box and centred, the tile scaled with it. In CSS pixels of the element's box.
 */
export function overlayBox(box, canvas, tile) {
  const scale = Math.min(box.width / canvas.width, box.height / canvas.height);
  const left = (box.width - canvas.width * scale) / 2;
  const top = (box.height - canvas.height * scale) / 2;
  return { left: left + tile.x * scale, top: top + tile.y * scale, width: tile.w * scale, height: tile.h * scale };
}

export class SelfView {
  /** `mix`: the <video> of the mix; `overlay`: an element positioned over it (same offset parent) holding a <video>. */
  constructor(mix, overlay) {
    this.mix = mix;
    this.overlay = overlay;
    this.video = overlay.querySelector('video');
    this.tile = null;
    this.canvas = null;
    this.stream = null;
    this.enabled = false;
    new ResizeObserver(() => this.place()).observe(mix);
  }

  /** The local camera (null: none). */
  setStream(stream) {
    if (this.stream === stream) return;
    this.stream = stream;
    this.video.srcObject = stream;
    this.video.play?.().catch(() => undefined);
    this.place();
  }

  /** Your tile (null: you have none) and the canvas its rectangle is in; `enabled`: the camera is on. */
  update({ tile, canvas, enabled }) {
    Object.assign(this, { tile, canvas, enabled });
    this.place();
  }

  place() {
    const box = { width: this.mix.clientWidth, height: this.mix.clientHeight };
    const visible = Boolean(this.enabled && this.stream && this.tile && this.canvas && box.width && box.height);
    this.overlay.hidden = !visible;
    if (!visible) return;
    const b = overlayBox(box, this.canvas, this.tile);
    Object.assign(this.overlay.style, { left: `${this.mix.offsetLeft + b.left}px`, top: `${this.mix.offsetTop + b.top}px`, width: `${b.width}px`, height: `${b.height}px` });
    this.video.style.objectFit = this.tile.fit === 'contain' ? 'contain' : 'cover';
  }
}
