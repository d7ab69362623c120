/**
 * `GET /api2/json/nodes/{node}/status`: the server process's own state, for operators and for the
 * resource-bound tests (docs/protocol.md "Resource bounds"): memory (RSS, heap, array buffers), the
 * shared upload pool (buffers leased, uploads waiting, backup sessions), uptime, and (as PBS's
 * `info.fingerprint`) the certificate fingerprint clients pin. `GET /metrics`:
 * everything ServerMetrics reports, in Prometheus's text format.
 *
 * PBS answers this path with host facts (CPU, load, disks); Holdfast reports the process it is,
 * under the same privilege PBS asks for: Sys.Audit on /system/status.
 */
import { fail } from '../../core/errors.ts';
import { METRICS_CONTENT_TYPE } from '../metrics.ts';
import type { UploadMemoryStats } from '../protocol/upload-memory.ts';
import { RawResponse, type Route } from '../router.ts';

export interface NodeStatusSources {
  readonly node: string;
  readonly uploads: () => UploadMemoryStats;
  /** the Prometheus exposition text */
  readonly metrics: () => Promise<string>;
  /** the certificate fingerprint clients pin (the one in use now: SIGHUP may change it) */
  readonly fingerprint: () => string;
}

export function nodeStatusRoutes(src: NodeStatusSources): Route[] {
  return [
    {
      method: 'GET',
      path: '/api2/json/nodes/{node}/status',
      privilege: () => ({ path: '/system/status', privs: ['Sys.Audit'] }),
      handler: (ctx) => {
        const node = ctx.params['node'] ?? '';
        if (node !== 'localhost' && node !== src.node) throw fail('NOT_FOUND', `no node '${node}'`, { node });
        const m = process.memoryUsage();
        return {
          uptime: Math.round(process.uptime()),
          memory: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers },
          uploads: src.uploads(),
          // as PBS's node status has it, for the web UI's connection information
          info: { fingerprint: src.fingerprint() },
        };
      },
    },
    {
      // Prometheus scrapes with an API token (`Authorization: PBSAPIToken id:secret`) that holds
      // Sys.Audit on /system/status, or with a ticket.
      method: 'GET',
      path: '/metrics',
      privilege: () => ({ path: '/system/status', privs: ['Sys.Audit'] }),
      handler: async () => new RawResponse(Buffer.from(await src.metrics()), { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' }),
    },
  ];
}
