import { nonOverlapping } from './non-overlapping';

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

describe('nonOverlapping', () => {
  it('skips calls while a run is in flight, so ticks during a stall do not pile up and run at once afterwards', async () => {
    const runs: Array<ReturnType<typeof deferred>> = [];
    const sweep = nonOverlapping(() => {
      const d = deferred();
      runs.push(d);
      return d.promise;
    });
    const first = sweep();
    // ten ticks while the first run hangs (Redis stopped): none starts
    const skipped = Array.from({ length: 10 }, () => sweep());
    expect(runs).toHaveLength(1);
    await expect(Promise.all(skipped)).resolves.toEqual(Array(10).fill(false));
    runs[0].resolve();
    await expect(first).resolves.toBe(true);
    // after it ended, the next tick runs again (once)
    const next = sweep();
    expect(runs).toHaveLength(2);
    runs[1].resolve();
    await expect(next).resolves.toBe(true);
  });

  it('a failed run frees the slot and reports its error to onError, never as a rejection', async () => {
    const errors: string[] = [];
    let n = 0;
    const sweep = nonOverlapping(async () => {
      n++;
      throw new Error(`boom ${n}`);
    }, (e) => errors.push((e as Error).message));
    await expect(sweep()).resolves.toBe(true);
    await expect(sweep()).resolves.toBe(true);
    expect(errors).toEqual(['boom 1', 'boom 2']);
  });

  it('a synchronous throw is caught the same way', async () => {
    const errors: unknown[] = [];
    const sweep = nonOverlapping(() => {
      throw new Error('sync');
    }, (e) => errors.push(e));
    await expect(sweep()).resolves.toBe(true);
    expect(errors).toHaveLength(1);
  });
});
