import type { RTCPeerConnection } from 'werift';
import { connectDeadline } from './connect-deadline';

/** The part of a werift peer the deadline reads: its state and the state-change event. */
function fakePeer(state = 'new') {
  const listeners = new Set<(s: string) => void>();
  const pc = {
    connectionState: state,
    connectionStateChange: {
      subscribe: (fn: (s: string) => void) => {
        listeners.add(fn);
        return { unSubscribe: () => listeners.delete(fn) };
      },
    },
  };
  return {
    pc: pc as unknown as RTCPeerConnection,
    set(s: string) {
      pc.connectionState = s;
      for (const l of [...listeners]) l(s);
    },
    listeners,
  };
}

describe('connectDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('fires when the peer has not connected in time, with its state', () => {
    const p = fakePeer();
    const onTimeout = jest.fn();
    connectDeadline(p.pc, 2000, onTimeout);
    p.set('connecting');
    jest.advanceTimersByTime(1999);
    expect(onTimeout).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(onTimeout).toHaveBeenCalledWith('connecting');
    expect(p.listeners.size).toBe(0);
  });

  it('does not fire once connected (a later disconnect is for the other watchdogs), nor when cancelled', () => {
    const p = fakePeer();
    const onTimeout = jest.fn();
    connectDeadline(p.pc, 2000, onTimeout);
    p.set('connected');
    p.set('disconnected');
    jest.advanceTimersByTime(5000);
    const q = fakePeer();
    const cancel = connectDeadline(q.pc, 2000, onTimeout);
    cancel();
    jest.advanceTimersByTime(5000);
    expect(onTimeout).not.toHaveBeenCalled();
    expect(p.listeners.size + q.listeners.size).toBe(0);
    expect(() => connectDeadline(fakePeer('connected').pc, 10, onTimeout)()).not.toThrow();
  });
});
