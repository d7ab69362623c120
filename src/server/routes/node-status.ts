/**
 * `GET /api2/json/nodes/{node}/status`: the server process's own state, for operators and for the
 * resource-bound tests (docs/protocol.md "Resource bounds"): memory (RSS, heap, array buffers), the
 * shared upload pool (buffers leased, uploads waiting, backup sessions) and uptime.
 *
 * PBS answers this path with host facts (CPU, load, disks); Holdfast reports the process it is,
 * under the same privilege PBS asks for: Sys.Audit on /system/status.
 */
import { fail } from '../../core/errors.ts';
import type { UploadMemoryStats } from '../protocol/upload-memory.ts';
import type { Route } from '../router.ts';

export interface NodeStatusSources {
  readonly node: string;
  readonly uploads: () => UploadMemoryStats;
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
        };
      },
    },
  ];
}
