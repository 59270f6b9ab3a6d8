/**
 * ffmpeg arguments as "flag value" strings, for specs: `arrayContaining(['-c:v', 'copy', '-c:a', 'copy'])` on the raw
 * array passes when video is re-encoded ('-c:v', 'libx264', …, 'copy' anywhere), a pair cannot.
 */
export function flagPairs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < args.length; i++) if (/^-[a-z_]/i.test(args[i])) out.push(`${args[i]} ${args[i + 1]}`);
  return out;
}

/** `expect(flagPairs(a)).toEqual(expect.arrayContaining(pairs(...)))` with the pairs written flat: flag, value, flag, value… */
export function pairs(...flat: string[]): string[] {
  if (flat.length % 2) throw new Error('pairs() takes flag, value, flag, value…');
  return flat.flatMap((x, i) => (i % 2 ? [] : [`${x} ${flat[i + 1]}`]));
}
