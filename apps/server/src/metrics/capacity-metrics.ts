import type { AdmissionService } from '../admission/admission.service';
import type { MetricsService } from './metrics.service';

/** What admission control has left on this node (see README "Admission control"), read on every scrape. */
export function registerCapacityMetrics(metrics: MetricsService, admission: AdmissionService): void {
  const roomsLeft = metrics.gauge('mcu_capacity_rooms_left', 'rooms this node may still open (MAX_ROOMS minus open rooms)');
  const subscribersLeft = metrics.gauge('mcu_capacity_subscribers_left', 'subscribers this node may still take (MAX_SUBSCRIBERS minus visible subscribers)');
  const coresLeft = metrics.gauge('mcu_capacity_cores_left', 'NODE_CAPACITY_CORES minus the cores the cost model charges the running rooms');
  const coresUsed = metrics.gauge('mcu_capacity_cores_used', 'cores the cost model charges the running rooms');
  const coresBudget = metrics.gauge('mcu_capacity_cores_budget', 'NODE_CAPACITY_CORES');
  const portsLeft = metrics.gauge('mcu_capacity_ports_left', 'UDP ports of RTC_MIN_PORT..RTC_MAX_PORT left, one per WebRTC session (absent without a range)');
  metrics.onScrape('capacity', () => {
    const s = admission.summary();
    roomsLeft.set(s.left.rooms);
    subscribersLeft.set(s.left.subscribers);
    coresLeft.set(s.cores.left);
    coresUsed.set(s.cores.used);
    coresBudget.set(s.cores.budget);
    portsLeft.reset();
    if (s.left.ports !== undefined) portsLeft.set(s.left.ports);
  });
}
