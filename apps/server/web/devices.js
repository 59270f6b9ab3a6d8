// Cameras and microphones: the lists to choose from (remembered in localStorage), and opening the chosen ones.
import { el, mediaError } from './shared.js';

const KEYS = { videoinput: 'mcu.camera', audioinput: 'mcu.microphone' };
export const remembered = (kind) => localStorage.getItem(KEYS[kind]) ?? '';
export const remember = (kind, deviceId) => (deviceId ? localStorage.setItem(KEYS[kind], deviceId) : localStorage.removeItem(KEYS[kind]));

/** Fills the camera and microphone <select>s (names appear once the browser has allowed access), keeping the choice. */
export async function fillDeviceSelects(cameraSelect, micSelect) {
  const devices = await navigator.mediaDevices?.enumerateDevices().catch(() => []) ?? [];
  for (const [select, kind, noun] of [
    [cameraSelect, 'videoinput', 'camera'],
    [micSelect, 'audioinput', 'microphone'],
  ]) {
    const found = devices.filter((d) => d.kind === kind && d.deviceId && d.deviceId !== 'default');
    const want = select.value || remembered(kind);
    select.replaceChildren(
      el('option', { value: '' }, `Default ${noun}`),
      ...found.map((d, i) => el('option', { value: d.deviceId }, d.label || `${noun[0].toUpperCase()}${noun.slice(1)} ${i + 1}`)),
    );
    select.value = found.some((d) => d.deviceId === want) ? want : '';
  }
}

const constraints = (kind, deviceId) => {
  const device = deviceId ? { deviceId: { exact: deviceId } } : {};
  return kind === 'video' ? { width: { ideal: 640 }, height: { ideal: 360 }, ...device } : deviceId ? device : true;
};

/** The chosen camera and microphone (the browser's defaults when a remembered one is gone). */
export async function openLocalMedia(cameraId, micId) {
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: constraints('audio', micId), video: constraints('video', cameraId) });
  } catch (e) {
    if ((cameraId || micId) && (e.name === 'OverconstrainedError' || e.name === 'NotFoundError')) return openLocalMedia('', '');
    throw mediaError(e);
  }
}

/** One new track of `kind` ('audio' | 'video') from the device chosen. */
export async function openTrack(kind, deviceId) {
  try {
    const s = await navigator.mediaDevices.getUserMedia({ [kind]: constraints(kind, deviceId) });
    return s.getTracks()[0];
  } catch (e) {
    throw mediaError(e, kind === 'video' ? 'camera' : 'microphone');
  }
}
