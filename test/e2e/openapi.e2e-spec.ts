import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { startTestApp, type TestApp } from '../support/app-harness';

/**
 * Every route of every controller registered in the running app (discovered from Nest's module container and the
 * routing metadata, not listed by hand — routes added later are checked too), as "<method> <OpenAPI path>".
 */
function controllerRoutes(app: INestApplication): Array<{ method: string; path: string; where: string }> {
  const scanner = new MetadataScanner();
  const routes: Array<{ method: string; path: string; where: string }> = [];
  const paths = (v: unknown): string[] => (Array.isArray(v) ? v : [v ?? '']).map(String);
  const join = (...parts: string[]) => `/${parts.map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')}`;
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const type = wrapper.metatype as (new (...a: unknown[]) => object) | undefined;
      if (!type) continue;
      for (const name of scanner.getAllMethodNames(type.prototype)) {
        const handler = (type.prototype as Record<string, unknown>)[name] as object;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        for (const base of paths(Reflect.getMetadata(PATH_METADATA, type))) {
          for (const sub of paths(Reflect.getMetadata(PATH_METADATA, handler))) {
            routes.push({ method: RequestMethod[method].toLowerCase(), path: join(base, sub).replace(/:(\w+)/g, '{$1}'), where: `${type.name}.${name}` });
          }
        }
      }
    }
  }
  return routes;
}

interface Op {
  summary?: string;
  responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}

describe('OpenAPI at /docs', () => {
  let t: TestApp;
  let doc: { openapi: string; paths: Record<string, Record<string, Op>>; components: { schemas: Record<string, unknown> } };
  beforeAll(async () => {
    t = await startTestApp();
    const r = await t.request('GET', '/docs/json');
    expect(r.status).toBe(200);
    doc = r.json as typeof doc;
  });
  afterAll(async () => t?.close());

  it('serves the UI and the document', async () => {
    const ui = await t.request('GET', '/docs');
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toContain('text/html');
    expect(ui.text).toContain('swagger');
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.schemas).toHaveProperty('Error');
  });

  it('documents every controller route with a summary, its success response and the error shape', () => {
    const routes = controllerRoutes(t.app);
    expect(routes.length).toBeGreaterThan(15); // the discovery itself works
    const problems: string[] = [];
    for (const r of routes) {
      const item = doc.paths[r.path];
      if (!item) {
        problems.push(`${r.where}: ${r.method.toUpperCase()} ${r.path} is not in the document`);
        continue;
      }
      // an @All route (e.g. "anything but DELETE is 405") is documented by at least one of its methods
      const ops = r.method === 'all' ? Object.values(item) : item[r.method] ? [item[r.method]] : [];
      if (!ops.length) problems.push(`${r.where}: ${r.method.toUpperCase()} ${r.path} is not in the document`);
      for (const op of ops) {
        if (!op.summary) problems.push(`${r.where}: ${r.method.toUpperCase()} ${r.path} has no summary (add it to apps/server/src/docs/openapi-routes.ts)`);
        const statuses = Object.keys(op.responses ?? {});
        if (!statuses.some((s) => /^[23]/.test(s)) && !statuses.includes('405')) problems.push(`${r.where}: ${r.path} documents no success response`);
        const errorRef = op.responses?.['500']?.content?.['application/json']?.schema?.$ref;
        if (errorRef !== '#/components/schemas/Error') problems.push(`${r.where}: ${r.path} does not document the error shape`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('has no documentation for routes that do not exist', () => {
    const real = new Set(controllerRoutes(t.app).map((r) => `${r.method} ${r.path}`));
    const allPaths = new Set(controllerRoutes(t.app).filter((r) => r.method === 'all').map((r) => r.path));
    const stale = Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).filter((m) => !real.has(`${m} ${p}`) && !allPaths.has(p)).map((m) => `${m} ${p}`));
    expect(stale).toEqual([]);
  });

  it('describes request and response bodies', () => {
    const token = doc.paths['/v1/rooms/{name}/tokens'].post as Op & { requestBody?: { content: Record<string, { schema: { $ref: string } }> } };
    expect(token.requestBody?.content['application/json'].schema.$ref).toBe('#/components/schemas/TokenRequest');
    expect(token.responses?.['201']?.content?.['application/json']?.schema?.$ref).toBe('#/components/schemas/TokenResponse');
    const whip = doc.paths['/v1/rooms/{name}/whip'].post as Op & { requestBody?: { content: Record<string, unknown> } };
    expect(Object.keys(whip.requestBody?.content ?? {})).toEqual(['application/sdp']);
    expect(Object.keys(doc.paths['/v1/rooms/{name}/whip/{id}']).sort()).toEqual(['delete', 'patch']);
  });
});
