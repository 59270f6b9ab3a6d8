import { startTestApp, type TestApp } from '../support/app-harness';

/** Bull Board at /admin/queues: admin only; it shows the recording queue and its jobs. */
describe('Bull Board at /admin/queues', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('refuses requests without admin credentials', async () => {
    for (const p of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/main.js']) {
      const anon = await t.request('GET', p);
      expect([p, anon.status]).toEqual([p, 401]);
      expect(anon.headers.get('www-authenticate')).toContain('Basic');
      expect((anon.json as { error: { code: string } }).error.code).toBe('unauthorized');
    }
    const wrong = await t.request('GET', '/admin/queues', { headers: { authorization: `Basic ${Buffer.from('devkey:wrong').toString('base64')}` } });
    expect(wrong.status).toBe(401);
  });

  it('serves the board and the queues to the admin', async () => {
    const page = await t.admin('GET', '/admin/queues');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const api = await t.admin('GET', '/admin/queues/api/queues');
    expect(api.status).toBe(200);
    const names = (api.json as { queues: Array<{ name: string }> }).queues.map((q) => q.name);
    expect(names).toContain('mcu-recordings');
  });
});
