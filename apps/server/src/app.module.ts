import { type DynamicModule, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@app/config';
import { type FfmpegInfo, RoomManager } from '@app/media';
import { EventsGateway } from './events/events.gateway';
import { RoomEventsService } from './events/room-events.service';
import { HealthController } from './health/health.controller';
import { ShutdownService } from './lifecycle/shutdown.service';
import { loggingModule } from './logging/logging.module';
import { MetricsController } from './metrics/metrics.controller';
import { metricsProviders } from './metrics/metrics.providers';
import { JobsLifecycle, jobsProviders } from './recordings/jobs.providers';
import { HlsAdminController, HlsController } from './hls/hls.controller';
import { HlsService } from './hls/hls.service';
import { LivestreamsController } from './livestreams/livestreams.controller';
import { LivestreamsService } from './livestreams/livestreams.service';
import { RecordingsController } from './recordings/recordings.controller';
import { RecordingsService } from './recordings/recordings.service';
import { RoomsController } from './rooms/rooms.controller';
import { TokenIssuer } from './rooms/token-issuer.service';
import { APP_CONFIG, FFMPEG_INFO } from './tokens';
import { SessionsService } from './webrtc/sessions.service';
import { WebController } from './web/web.controller';
import { WhepController, WhipController } from './webrtc/whip.controller';

export const MAX_PUBLISHERS_PER_ROOM = 25;

@Module({})
export class AppModule implements OnApplicationShutdown {
  constructor(@Inject(RoomManager) private readonly rooms: RoomManager) {}

  static register(config: AppConfig, ffmpeg: FfmpegInfo): DynamicModule {
    return {
      module: AppModule,
      imports: [loggingModule(config)],
      controllers: [
        HealthController,
        RoomsController,
        WhipController,
        WhepController,
        WebController,
        RecordingsController,
        LivestreamsController,
        HlsAdminController,
        HlsController,
        MetricsController,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: FFMPEG_INFO, useValue: ffmpeg },
        {
          provide: RoomManager,
          useFactory: () => {
            const logger = new Logger('Rooms');
            return new RoomManager({
              ffmpegPath: ffmpeg.path,
              network: {
                ...(config.rtcMinPort !== undefined && config.rtcMaxPort !== undefined ? { portRange: [config.rtcMinPort, config.rtcMaxPort] as [number, number] } : {}),
                ...(config.publicIp ? { publicIp: config.publicIp } : {}),
              },
              publisherTimeoutMs: config.publisherTimeoutMs,
              maxPublishers: MAX_PUBLISHERS_PER_ROOM,
              logger: {
                log: (m) => logger.log(m),
                warn: (m) => logger.warn(m),
                error: (m) => logger.error(m),
                debug: (m) => logger.debug(m),
              },
            });
          },
        },
        SessionsService,
        TokenIssuer,
        ...jobsProviders,
        JobsLifecycle,
        RecordingsService,
        ...metricsProviders,
        ShutdownService,
        RoomEventsService,
        EventsGateway,
        LivestreamsService,
        HlsService,
      ],
    };
  }

  onApplicationShutdown(): void {
    this.rooms.close();
  }
}
