import { hkdfSync } from 'node:crypto';
import { loadConfig } from './config';
import { decideSecrets, deriveSecret, SECRET_LABELS } from './secrets';

const API = 'the-admin-secret-0123456789';
const base = { apiSecret: API, devCredentials: false, devAllowed: false };

describe('separate secrets', () => {
  it('derives each unset one from MCU_API_SECRET with HKDF and its own label: four different keys, the same in every process', () => {
    const s = decideSecrets(base);
    expect(new Set([API, s.tokenSecret, s.webhookSecret, s.workerSecret]).size).toBe(4);
    expect(s.tokenSecret).toBe(Buffer.from(hkdfSync('sha256', API, 'werift-mcu', SECRET_LABELS.token, 32)).toString('hex'));
    expect(decideSecrets(base)).toEqual(s);
    expect(decideSecrets({ ...base, apiSecret: 'another-admin-secret-01234' }).tokenSecret).not.toBe(s.tokenSecret);
    expect(s.derivedSecrets).toEqual(['TOKEN_SECRET', 'WEBHOOK_SECRET', 'WORKER_SECRET']);
    expect(s.problems).toEqual([]);
    expect(s.tokenSecretPrevious).toBeUndefined();
  });

  it('uses the ones that are set', () => {
    const s = decideSecrets({ ...base, tokenSecret: 'token-secret-0123456789', tokenSecretPrevious: 'old-token-secret-0123456789', workerSecret: 'worker-secret-0123456789' });
    expect(s).toMatchObject({ tokenSecret: 'token-secret-0123456789', tokenSecretPrevious: 'old-token-secret-0123456789', workerSecret: 'worker-secret-0123456789', webhookSecret: deriveSecret(API, SECRET_LABELS.webhook), derivedSecrets: ['WEBHOOK_SECRET'], problems: [] });
  });

  it('refuses short, placeholder, shared and reused secrets', () => {
    expect(decideSecrets({ ...base, tokenSecret: 'short' }).problems).toEqual(['TOKEN_SECRET must be at least 16 characters']);
    expect(decideSecrets({ ...base, webhookSecret: 'please-change-me-now' }).problems[0]).toMatch(/WEBHOOK_SECRET is a published placeholder/);
    expect(decideSecrets({ ...base, devAllowed: true, webhookSecret: 'please-change-me-now' }).problems).toEqual([]);
    expect(decideSecrets({ ...base, tokenSecret: API }).problems).toEqual(['TOKEN_SECRET must differ from MCU_API_SECRET (one secret per purpose)']);
    expect(decideSecrets({ ...base, tokenSecret: 'same-secret-0123456789', workerSecret: 'same-secret-0123456789' }).problems).toEqual(['TOKEN_SECRET and WORKER_SECRET must differ (one secret per purpose)']);
    expect(decideSecrets({ ...base, tokenSecretPrevious: 'same-secret-0123456789', webhookSecret: 'same-secret-0123456789' }).problems).toEqual([
      'TOKEN_SECRET_PREVIOUS must differ from WEBHOOK_SECRET and WORKER_SECRET',
    ]);
  });

  it('wants WEBHOOK_SECRET with WEBHOOK_URL on real credentials (a receiver cannot know a derived key); derives it in development', () => {
    expect(decideSecrets({ ...base, webhookUrl: 'https://hooks.example.com/mcu' }).problems[0]).toMatch(/WEBHOOK_URL is set: set WEBHOOK_SECRET/);
    expect(decideSecrets({ ...base, webhookUrl: 'https://hooks.example.com/mcu', webhookSecret: 'hook-secret-0123456789' }).problems).toEqual([]);
    expect(decideSecrets({ ...base, devCredentials: true, devAllowed: true, webhookUrl: 'http://127.0.0.1:9/hook' }).problems).toEqual([]);
  });

  it('reaches the config', () => {
    const c = loadConfig({ MCU_API_KEY: 'k', MCU_API_SECRET: API, TOKEN_SECRET: 'token-secret-0123456789' }, '/srv');
    expect(c).toMatchObject({ apiSecret: API, tokenSecret: 'token-secret-0123456789', webhookSecret: deriveSecret(API, SECRET_LABELS.webhook), derivedSecrets: ['WEBHOOK_SECRET', 'WORKER_SECRET'] });
    expect(() => loadConfig({ MCU_API_KEY: 'k', MCU_API_SECRET: API, WEBHOOK_URL: 'https://h.example.com/x' }, '/srv')).toThrow(/WEBHOOK_SECRET/);
    expect(loadConfig({}, '/srv').derivedSecrets).toHaveLength(3); // dev credentials: all derived
  });
});
