/**
 * S3 endpoints over the API, on PBS 4's paths: `GET/POST /api2/json/config/s3`,
 * `DELETE /api2/json/config/s3/{id}`. The store is the one the CLI edits (s3-endpoint-store.ts):
 * the secret key goes to s3-secrets.json (0600) and is never sent back; listings carry the
 * endpoint's public fields only. Sys.Audit on `/system/s3-endpoint` lists, Sys.Modify changes.
 */
import { bool, rejectControl, requiredText, text } from '../../core/args.ts';
import { S3EndpointStore } from '../../datastore/s3-endpoint-store.ts';
import type { S3Endpoint } from '../../format/s3-endpoint-config.ts';
import type { Fs } from '../../storage/fs-port.ts';
import type { Route } from '../router.ts';
import { sectionListRoute } from './section-list.ts';

const BASE = '/api2/json/config/s3';
const ACL = '/system/s3-endpoint';

/** The public face of an endpoint: never its secret key. */
function shown(e: S3Endpoint): Record<string, unknown> {
  return { id: e.id, endpoint: e.endpoint, 'access-key': e.accessKey, region: e.region, 'path-style': e.pathStyle, ...(e.fingerprint === undefined ? {} : { fingerprint: e.fingerprint }) };
}

export function s3ConfigRoutes(fs: Fs, configDir: string): Route[] {
  const store = new S3EndpointStore(fs, configDir);
  return [
    sectionListRoute({ path: BASE, sections: () => store.list(), priv: 'Sys.Audit', acl: { shared: ACL }, show: shown }),
    {
      method: 'POST',
      path: BASE,
      privilege: () => ({ path: ACL, privs: ['Sys.Modify'] }),
      handler: async (i) => {
        rejectControl(i.args);
        const region = text(i.args, 'region');
        const pathStyle = bool(i.args, 'path-style');
        const fingerprint = text(i.args, 'fingerprint');
        const e = await store.create({
          id: requiredText(i.args, 'id'),
          endpoint: requiredText(i.args, 'endpoint'),
          accessKey: requiredText(i.args, 'access-key'),
          secretKey: requiredText(i.args, 'secret-key'),
          ...(region ? { region } : {}),
          ...(pathStyle === undefined ? {} : { pathStyle }),
          ...(fingerprint ? { fingerprint } : {}),
        });
        return shown(e);
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/{id}`,
      privilege: () => ({ path: ACL, privs: ['Sys.Modify'] }),
      handler: async (i) => {
        await store.remove(i.params['id'] ?? '');
        return null;
      },
    },
  ];
}
