import { type DynamicModule, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@app/config';
import { type FfmpegInfo, objectLogger, RoomManager } from '@app/media';
import { AdmissionService } from './admission/admission.service';
import { ClusterService } from './cluster/cluster.service';
import { NodesController } from './cluster/nodes.controller';
import { IdleRoomsService } from './admission/idle-rooms.service';
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
import { JoinController, RoomsController } from './rooms/rooms.controller';
import { RoomsService } from './rooms/rooms.service';
import { TokenIssuer } from './rooms/token-issuer.service';
import { APP_CONFIG, FFMPEG_INFO } from './tokens';
import { SessionsService } from './webrtc/sessions.service';
import { WebController } from './web/web.controller';
import { WhepController, WhipController } from './webrtc/whip.controller';

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
        JoinController,
        NodesController,
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
              connectTimeoutMs: config.sessionConnectTimeoutMs,
              maxPublishers: config.maxPublishersPerRoom, // admission refuses first (503); the room's own check is the backstop
              workers: config.mediaWorkers,
              debugLogs: config.logLevel === 'debug' || config.logLevel === 'verbose',
              logger: objectLogger(logger),
            });
          },
        },
        AdmissionService,
        IdleRoomsService,
        SessionsService,
        TokenIssuer,
        ClusterService,
        RoomsService,
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

  async onApplicationShutdown(): Promise<void> {
    await this.rooms.close();
  }
}
