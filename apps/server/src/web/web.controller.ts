import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Body, Controller, Get, Header, Inject, Param, Post, Res, UseGuards } from '@nestjs/common';
import { NotFoundError, ROOM_NAME_RE, validateTokenRequest, ValidationError } from '@app/core';
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

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'client.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/**
 * The web client (served at /), and in development only (dev credentials in use) an unauthenticated token endpoint
 * for it. In production the integrating app issues tokens with the admin API and opens the page with `#token=…`.
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
      body = readFileSync(path.join(this.root, name));
      this.cache.set(name, body);
    }
    res.setHeader('Content-Type', FILES[name]);
    res.setHeader('Cache-Control', 'no-cache');
    res.send(body);
  }

  @Get()
  index(@Res() res: Response): void {
    this.file('index.html', res);
  }

  @Get('web/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    if (!Object.hasOwn(FILES, file) || file === 'index.html') throw new NotFoundError('no such file');
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
    return this.tokens.issue(room, validateTokenRequest(rest));
  }
}
