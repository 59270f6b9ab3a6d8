import { finishProblem } from './finish-file';

describe('a finished file is the recording it was made from', () => {
  it('when it lasts as long, within max(1 s, 1 %)', () => {
    expect(finishProblem(10.2, 10)).toBeUndefined();
    expect(finishProblem(598, 600)).toBeUndefined();
    expect(finishProblem(8.5, 10)).toBe('the finished file lasts 8.5 s, the recording 10.0 s');
    expect(finishProblem(590, 600)).toMatch(/lasts 590.0 s/);
    expect(finishProblem(undefined, 10)).toBe('the finished file is not playable');
  });
});
