import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Body, Controller, Get, Header, Inject, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ForbiddenError, NotFoundError, ROOM_NAME_RE, validateTokenRequest, ValidationError } from '@app/core';
import type { AppConfig } from '@app/config';
import type { Response } from 'express';
import { TokenIssuer } from '../rooms/token-issuer.service';
import { APP_CONFIG } from '../tokens';
import { AcceptingGuard } from '../lifecycle/accepting.guard';

/** apps/server/web, from the sources (apps/server/src/web) or from the build (dist/apps/server/src/web). */
export function webRoot(): string {
  const candidates = [path.resolve(__dirname, '../../web'), path.resolve(__dirname, '../../../../../apps/server/web')];
  const found = candidates.find((p) => existsSync(path.join(p, 'index.html')));
  if (!found) throw new Error(`web client files not found in ${candidates.join(' or ')}`);
  return found;
}

const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
/** The files of apps/server/web that are served (nothing else is), by name. */
const FILES: Record<string, string> = {
  'index.html': HTML,
  'host.html': HTML,
  'viewer.html': HTML,
  'style.css': 'text/css; charset=utf-8',
  'shared.js': JS,
  'room-state.js': JS,
  'participant.js': JS,
  'devices.js': JS,
  'selfview.js': JS,
  'quality.js': JS,
  'host.js': JS,
  'host-outputs.js': JS,
  'viewer.js': JS,
};
/** npm packages the pages use, served by us (no CDN): hls.js for the viewer page. */
const VENDOR: Record<string, string> = { 'hls.min.js': 'hls.js/dist/hls.min.js' };

/**
 * The web client: the participant page (/), the host page (/host) and the HLS viewer page (/watch), and in development
 * only (dev credentials in use) an unauthenticated token endpoint for the participant page. In production the
 * integrating app issues tokens with the admin API and opens the pages with `#token=…` (or `#invite=…`).
 */
@Controller()
export class WebController {
  private readonly root = webRoot();
  private readonly cache = new Map<string, Buffer>();

  constructor(
    private readonly tokens: TokenIssuer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private file(name: string, res: Response): void {
    let body = this.cache.get(name);
    if (!body) {
      body = readFileSync(Object.hasOwn(VENDOR, name) ? require.resolve(VENDOR[name]) : path.join(this.root, name));
      this.cache.set(name, body);
    }
    res.setHeader('Content-Type', FILES[name] ?? JS);
    res.setHeader('Cache-Control', 'no-cache');
    // the pages carry tokens in their fragment: never in a Referer, never framed by another site
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.send(body);
  }

  @Get()
  index(@Res() res: Response): void {
    this.file('index.html', res);
  }

  @Get('host')
  host(@Res() res: Response): void {
    this.file('host.html', res);
  }

  @Get('watch')
  watch(@Res() res: Response): void {
    this.file('viewer.html', res);
  }

  @Get('web/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    const known = (Object.hasOwn(FILES, file) && !file.endsWith('.html')) || Object.hasOwn(VENDOR, file);
    if (!known) throw new NotFoundError('no such file');
    this.file(file, res);
  }

  @Get('v1/dev')
  @Header('Cache-Control', 'no-store')
  devInfo() {
    return { devTokens: this.config.devCredentials };
  }

  /** DEV ONLY: exists while the server runs on dev credentials (MCU_API_KEY/SECRET unset). */
  @Post('v1/dev/tokens')
  @UseGuards(AcceptingGuard)
  devToken(@Body() body: unknown) {
    if (!this.config.devCredentials) throw new NotFoundError('the dev token endpoint exists only with dev credentials');
    const raw = (typeof body === 'object' && body ? body : {}) as Record<string, unknown>;
    const { room, ...rest } = raw;
    if (typeof room !== 'string' || !ROOM_NAME_RE.test(room)) {
      throw new ValidationError('room must be 1-64 characters of letters, digits, "_", "-" or "."');
    }
    const request = validateTokenRequest(rest);
    if (request.roomAdmin || request.invite) throw new ForbiddenError('the dev endpoint issues participant tokens only; room admin tokens and invitations come from POST /v1/rooms/{name}/tokens');
    return this.tokens.issue(room, request);
  }
}
