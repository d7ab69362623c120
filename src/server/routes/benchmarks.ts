/**
 * `GET /api2/json/nodes/{node}/benchmarks`: the sync-level and daily-cycle benchmark reports in
 * the server's results directory (bench-results.ts), newest first, for the web UI's benchmark
 * page. Needs Sys.Audit on `/system/status`, like the node's status.
 */
import type { Fs } from '../../storage/fs-port.ts';
import { readBenchResults } from '../bench-results.ts';
import type { Route } from '../router.ts';

export function benchmarkRoutes(fs: Fs, resultsDir: string): Route[] {
  return [
    {
      method: 'GET',
      path: '/api2/json/nodes/{node}/benchmarks',
      privilege: () => ({ path: '/system/status', privs: ['Sys.Audit'] }),
      handler: () => readBenchResults(fs, resultsDir),
    },
  ];
}
