import { flagPairs, pairs } from './arg-pairs';

describe('ffmpeg argument pairs for specs', () => {
  it('tells a copy from a re-encode that also has "copy" somewhere', () => {
    const reencode = ['-i', 'pipe:0', '-c:v', 'libx264', '-c:a', 'copy', '-metadata', 'copy'];
    expect(reencode).toEqual(expect.arrayContaining(['-c:v', 'copy'])); // what the old checks did: passes wrongly
    expect(flagPairs(reencode)).not.toEqual(expect.arrayContaining(pairs('-c:v', 'copy')));
    expect(flagPairs(reencode)).toEqual(expect.arrayContaining(pairs('-c:v', 'libx264', '-c:a', 'copy')));
  });
  it('wants flag, value pairs', () => {
    expect(() => pairs('-c:v')).toThrow();
  });
});
