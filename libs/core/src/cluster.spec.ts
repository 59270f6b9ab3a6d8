import { canHost, type NodeRecord, parseNodeRecord, nodeRecordFields, pickNode, redirectLocation, validateNodeId } from './cluster';

const node = (id: string, o: Partial<NodeRecord> = {}): NodeRecord => ({ id, url: `http://${id}:3000`, coresLeft: 1.7, roomsLeft: 100, rooms: 0, load: 0.1, draining: false, at: 1000, ...o });

describe('pickNode', () => {
  it('takes the node with the most cores left', () => {
    expect(pickNode([node('a', { coresLeft: 0.5 }), node('b', { coresLeft: 1.2 }), node('c', { coresLeft: 0.9 })])?.id).toBe('b');
  });

  it('breaks ties (within 0.1 core) by fewer rooms, then the least loaded, then the id', () => {
    expect(pickNode([node('a', { coresLeft: 1.7, rooms: 3 }), node('b', { coresLeft: 1.65, rooms: 1 })])?.id).toBe('b');
    expect(pickNode([node('a', { rooms: 1, load: 0.6 }), node('b', { rooms: 1, load: 0.2 })])?.id).toBe('b');
    expect(pickNode([node('b'), node('a')])?.id).toBe('a');
    // a real difference in capacity wins over the room count
    expect(pickNode([node('a', { coresLeft: 1.7, rooms: 5 }), node('b', { coresLeft: 1.2, rooms: 0 })])?.id).toBe('a');
  });

  it('never picks a draining, full or spent node; undefined when none can host', () => {
    expect(pickNode([node('a', { draining: true, coresLeft: 9 }), node('b')])?.id).toBe('b');
    // another host's clock is not compared with ours: liveness is the record's Redis TTL
    expect(pickNode([node('a', { at: 1000 - 60_000, coresLeft: 9 }), node('b')])?.id).toBe('a');
    expect(pickNode([node('a', { roomsLeft: 0, coresLeft: 9 }), node('b')])?.id).toBe('b');
    expect(pickNode([node('a', { coresLeft: 0 })])).toBeUndefined();
    expect(pickNode([])).toBeUndefined();
    expect(canHost(node('a'))).toBe(true);
    expect(canHost(node('a', { draining: true }))).toBe(false);
  });
});

describe('redirectLocation', () => {
  it('keeps the path and query on the other node', () => {
    expect(redirectLocation('http://10.0.0.2:3000', '/v1/rooms/a/whip?source=screen')).toBe('http://10.0.0.2:3000/v1/rooms/a/whip?source=screen');
    expect(redirectLocation('https://mcu-2.example.com/', '/v1/rooms/a/whep')).toBe('https://mcu-2.example.com/v1/rooms/a/whep');
    expect(redirectLocation('https://example.com/mcu', '/v1/rooms/a/hls/index.m3u8?token=x')).toBe('https://example.com/mcu/v1/rooms/a/hls/index.m3u8?token=x');
  });
});

describe('node records', () => {
  it('round-trip through a Redis hash; incomplete ones are dropped', () => {
    const r = node('a', { draining: true, load: 0.25 });
    expect(parseNodeRecord(nodeRecordFields(r))).toEqual(r);
    expect(parseNodeRecord({ id: 'a', url: 'http://a' })).toBeUndefined();
    expect(parseNodeRecord({})).toBeUndefined();
  });

  it('validates NODE_ID', () => {
    expect(validateNodeId('node-1')).toBeUndefined();
    expect(validateNodeId('mcu.eu-west_2')).toBeUndefined();
    expect(validateNodeId('-x')).toMatch(/NODE_ID/);
    expect(validateNodeId('a:b')).toMatch(/NODE_ID/);
    expect(validateNodeId('x'.repeat(64))).toMatch(/NODE_ID/);
  });
});
