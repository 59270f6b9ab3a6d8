import { Controller, Get, UseGuards } from '@nestjs/common';
import { AdminAuthGuard } from '../http/admin-auth.guard';
import { ClusterService } from './cluster.service';

/** The cluster's live nodes as the registry in Redis has them (admin). */
@Controller('v1/nodes')
@UseGuards(AdminAuthGuard)
export class NodesController {
  constructor(private readonly cluster: ClusterService) {}

  @Get()
  async list() {
    const nodes = await this.cluster.nodes();
    return { self: this.cluster.nodeId, nodes: nodes.sort((a, b) => (a.id < b.id ? -1 : 1)) };
  }
}
