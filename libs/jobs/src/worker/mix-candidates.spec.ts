import { SdpPostError } from '@app/media';
import { candidateServers, connectInTurn, worthAnotherNode } from './mix-candidates';

describe('mix source candidates', () => {
  it('puts the configured server first, once', () => {
    expect(candidateServers('http://a:3000/', ['http://b:3000', 'http://a:3000', ' http://c:3000/ ', ''])).toEqual(['http://a:3000', 'http://b:3000', 'http://c:3000']);
  });

  it('tries another node on network errors and 5xx only', () => {
    expect(worthAnotherNode(new SdpPostError('ECONNREFUSED'))).toBe(true);
    expect(worthAnotherNode(new SdpPostError('busy', 503))).toBe(true);
    expect(worthAnotherNode(new SdpPostError('no such room', 404))).toBe(false);
    expect(worthAnotherNode(new SdpPostError('bad token', 401))).toBe(false);
    expect(worthAnotherNode(new Error('setRemoteDescription failed'))).toBe(false);
  });

  const fake = (answers: Record<string, Error | string>) => {
    const calls: string[] = [];
    const connect = async (base: string) => {
      calls.push(base);
      const a = answers[base];
      if (a instanceof Error) throw a;
      return a ?? 'ok';
    };
    return { calls, connect };
  };

  it('does not read the registry when the configured server answers', async () => {
    const others = jest.fn(async () => ['http://b']);
    const f = fake({ 'http://a': 'mix from a' });
    await expect(connectInTurn('http://a', others, f.connect)).resolves.toBe('mix from a');
    expect(others).not.toHaveBeenCalled();
  });

  it('moves on to the other alive nodes when the configured one is down or failing', async () => {
    const f = fake({ 'http://a': new SdpPostError('ECONNREFUSED'), 'http://b': new SdpPostError('down', 502), 'http://c': 'mix from c' });
    await expect(connectInTurn('http://a', async () => ['http://a', 'http://b', 'http://c'], f.connect)).resolves.toBe('mix from c');
    expect(f.calls).toEqual(['http://a', 'http://b', 'http://c']);
  });

  it('stops at a 4xx: a 404 room is final', async () => {
    const f = fake({ 'http://a': new SdpPostError('ECONNREFUSED'), 'http://b': new SdpPostError('not found', 404), 'http://c': 'never' });
    const e = (await connectInTurn('http://a', async () => ['http://b', 'http://c'], f.connect).catch((x: unknown) => x)) as SdpPostError;
    expect(e.status).toBe(404);
    expect(e.message).toMatch(/http:\/\/a: ECONNREFUSED; http:\/\/b: not found/);
    expect(f.calls).toEqual(['http://a', 'http://b']);
  });

  it('throws the last failure when every node failed (and survives a registry that cannot be read)', async () => {
    const f = fake({ 'http://a': new SdpPostError('ECONNREFUSED') });
    await expect(connectInTurn('http://a', () => Promise.reject(new Error('redis down')), f.connect)).rejects.toThrow('ECONNREFUSED');
    expect(f.calls).toEqual(['http://a']);
  });
});
