/**
 * `GET /api2/json/admin/datastore/{store}/rrd?timeframe=hour|day|month[&cf=AVERAGE]`: a
 * datastore's usage over time as the server sampled it (jobs/usage-sampler.ts), on PBS's path.
 * Each point is a slot's start (`time`, epoch seconds) with the averages of `used` (the store's
 * own bytes as of its last GC), `chunks`, `dedup`, `fs-used` and `fs-total`; a field is absent
 * when it was unknown. Needs Datastore.Audit or Datastore.Backup on the store, as its status does.
 */
import { text } from '../../core/args.ts';
import { fail } from '../../core/errors.ts';
import type { UsageSampler } from '../../jobs/usage-sampler.ts';
import { TIMEFRAMES, type Timeframe } from '../../jobs/usage-series.ts';
import type { DatastoreRegistry } from '../datastores/datastore-registry.ts';
import type { Route } from '../router.ts';
import { scopeOf, type DatastoreAccess } from './datastore-admin.ts';

function timeframe(value: string | undefined): Timeframe {
  const tf = value ?? 'hour';
  if (!(TIMEFRAMES as readonly string[]).includes(tf)) throw fail('INVALID_ARGUMENT', `timeframe must be one of ${TIMEFRAMES.join(', ')}`, { param: 'timeframe', value: tf });
  return tf as Timeframe;
}

export function datastoreUsageRoutes(registry: DatastoreRegistry, auth: DatastoreAccess, sampler: UsageSampler): Route[] {
  return [
    {
      method: 'GET',
      path: '/api2/json/admin/datastore/{store}/rrd',
      privilege: () => null,
      handler: async (i) => {
        const tf = timeframe(text(i.args, 'timeframe'));
        const cf = text(i.args, 'cf') ?? 'AVERAGE';
        if (cf !== 'AVERAGE') throw fail('INVALID_ARGUMENT', 'cf must be AVERAGE (the series keeps averages)', { param: 'cf', value: cf });
        await scopeOf(auth, { ...i, args: {} }, 'Datastore.Audit', 'Datastore.Backup'); // the whole datastore's figures, whatever `ns` says
        const name = (await registry.config(i.params['store'] ?? '')).name;
        return (await sampler.series(name)).points(tf);
      },
    },
  ];
}
