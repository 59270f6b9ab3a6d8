import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { SCHEMAS } from './openapi-schemas';
import { ROUTE_DOCS, type RouteDoc } from './openapi-routes';

const ERROR_TEXT: Record<number, string> = {
  400: 'bad request, validation failed, invalid SDP or unsupported codec',
  401: 'missing, invalid or expired credentials',
  403: 'wrong room or missing grant',
  404: 'not found',
  405: 'method not allowed',
  409: 'conflict (name taken, room full, already finished)',
  413: 'body too large',
  415: 'wrong content type',
  416: 'range not satisfiable',
  503: 'shutting down (shutting_down), not ready or Redis not answering (unavailable: within about a second, never a hang), or no capacity (capacity_exceeded: error.limit names the limit); with Retry-After',
  507: 'insufficient_storage: the recordings directory has less free space than MIN_FREE_DISK_MB; nothing was started',
};
const SECURITY: Record<NonNullable<RouteDoc['auth']>, Array<Record<string, string[]>>> = {
  admin: [{ admin: [] }],
  'room-token': [{ roomToken: [] }],
  'admin-or-room-token': [{ admin: [] }, { roomToken: [] }],
  'admin-or-room-admin': [{ admin: [] }, { roomAdmin: [] }],
  metrics: [{ admin: [] }, { metricsToken: [] }],
};
const MEDIA: Record<string, string> = { sdp: 'application/sdp', file: 'application/octet-stream', html: 'text/html', text: 'text/plain', prometheus: 'text/plain; version=0.0.4' };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

type Operation = Record<string, unknown> & { responses?: Record<string, unknown> };

/** Applies one RouteDoc to the operation Nest's scan generated (keeps its operationId and path parameters). */
function document(op: Operation, d: RouteDoc): Operation {
  const responses: Record<string, unknown> = {};
  const ok = d.ok;
  responses[String(ok.status)] = {
    description: ok.description,
    ...(ok.schema ? { content: { 'application/json': { schema: ref(ok.schema) } } } : ok.type ? { content: { [MEDIA[ok.type]]: { schema: { type: 'string', ...(ok.type === 'file' ? { format: 'binary' } : {}) } } } } : {}),
    ...(ok.headers ? { headers: Object.fromEntries(Object.entries(ok.headers).map(([h, description]) => [h, { description, schema: { type: 'string' } }])) } : {}),
  };
  // every authenticated route may need Redis (rooms' records, leases, recordings): 503 unavailable when it does not answer
  for (const status of [...(d.errors ?? []), ...(d.auth ? [503] : []), 500]) {
    if (String(status) in responses) continue;
    responses[String(status)] = { description: ERROR_TEXT[status] ?? 'internal error', content: { 'application/json': { schema: ref('Error') } } };
  }
  const params = (op.parameters as unknown[] | undefined) ?? [];
  return {
    ...op,
    summary: d.summary,
    tags: [d.tag],
    parameters: [
      ...params.filter((p) => (p as { in?: string }).in === 'path'),
      ...(d.query ?? []).map((q) => ({ name: q.name, in: 'query', required: false, description: q.description, schema: q.schema ?? { type: 'string' } })),
    ],
    ...(d.body ? { requestBody: { required: d.body !== 'RecordingRequest', content: d.body === 'sdp' ? { 'application/sdp': { schema: { type: 'string' } } } : { 'application/json': { schema: ref(d.body) } } } } : {}),
    ...(d.auth ? { security: SECURITY[d.auth] } : { security: [] }),
    responses,
  };
}

/** Methods Nest's scan lists for an @All route; only the documented ones are kept. */
const ALL_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'options', 'head', 'search'];

/** The OpenAPI 3 document of every route the app serves, with request/response schemas and the error shape. */
export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const base = new DocumentBuilder()
    .setTitle('werift-mcu')
    .setDescription('WebRTC MCU: WHIP in, one composited audio/video mix out over WHEP; recordings; operations. Errors are always {"error":{"code","message"}}.')
    .setVersion('0.1.0')
    .addBasicAuth({ type: 'http', scheme: 'basic', description: 'MCU_API_KEY:MCU_API_SECRET' }, 'admin')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'a room token from POST /v1/rooms/{name}/tokens' }, 'roomToken')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'a room token with the roomAdmin grant: this room only (?token= also accepted on GET)' }, 'roomAdmin')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' }, 'metricsToken')
    .build();
  const doc = SwaggerModule.createDocument(app, base);
  doc.components = { ...doc.components, schemas: { ...(doc.components?.schemas ?? {}), ...(SCHEMAS as NonNullable<OpenAPIObject['components']>['schemas']) } };
  for (const [path, item] of Object.entries(doc.paths)) {
    const ops = item as Record<string, Operation>;
    const methods = Object.keys(ops).filter((m) => ALL_METHODS.includes(m));
    const isAllRoute = ALL_METHODS.every((m) => methods.includes(m));
    for (const m of methods) {
      const d = ROUTE_DOCS[`${m} ${path}`];
      if (d) ops[m] = document(ops[m], d);
      else if (isAllRoute) delete ops[m];
    }
  }
  return doc;
}

/** Swagger UI at /docs, the JSON document at /docs/json (and /docs-json). */
export function installOpenApi(app: INestApplication): OpenAPIObject {
  const doc = buildOpenApi(app);
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs/json', customSiteTitle: 'werift-mcu API' });
  return doc;
}
