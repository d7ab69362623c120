/**
 * Remote configuration under `/api2/json/config/remote` (PBS paths and privileges):
 *
 *     GET    …/remote          the remotes the caller may audit       Remote.Audit on /remote/{name}
 *     POST   …/remote          create (name, host, port, auth-id,     Remote.Modify on /remote
 *                              password, fingerprint, comment)
 *     GET    …/remote/{name}   one remote                             Remote.Audit on /remote/{name}
 *     PUT    …/remote/{name}   change the given keys; `delete` lists  Remote.Modify on /remote/{name}
 *                              port, fingerprint, comment to drop
 *     DELETE …/remote/{name}   refused while a sync job uses it       Remote.Modify on /remote
 *
 * The password (or token secret) is write-only: no answer ever carries it. A PUT that changes
 * where the remote points (host, port, auth-id, fingerprint) must give the password again, so
 * the stored one never goes to a server the caller picked (RemoteStore.update).
 */
import { int, list, requiredText, text } from '../../core/args.ts';
import { fail } from '../../core/errors.ts';
import { describeRemote } from '../../format/remote-config.ts';
import { RemoteStore, type RemotePatch } from '../../jobs/sync/remote-store.ts';
import type { Fs } from '../../storage/fs-port.ts';
import type { AuthPort } from '../auth/authenticator.ts';
import type { Route, RouteInput } from '../router.ts';
import { sectionListRoute } from './section-list.ts';

const BASE = '/api2/json/config/remote';
const DELETABLE = ['port', 'fingerprint', 'comment'] as const;

const nameOf = (i: RouteInput): string => i.params['name'] ?? '';

function patchOf(i: RouteInput): RemotePatch {
  const drop = list(i.args, 'delete');
  for (const k of drop) if (!(DELETABLE as readonly string[]).includes(k)) throw fail('INVALID_ARGUMENT', `cannot delete '${k}' (only ${DELETABLE.join(', ')})`, { param: 'delete', value: k });
  const value = <T>(key: string, v: T | undefined): T | null | undefined => (drop.includes(key) ? null : v);
  const out: Record<string, unknown> = {
    host: text(i.args, 'host'),
    port: value('port', int(i.args, 'port')),
    authId: text(i.args, 'auth-id'),
    secret: text(i.args, 'password'),
    fingerprint: value('fingerprint', text(i.args, 'fingerprint')),
    comment: value('comment', text(i.args, 'comment')),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

export function remoteConfigRoutes(fs: Fs, configDir: string, auth: AuthPort): Route[] {
  const remotes = new RemoteStore(fs, configDir);
  return [
    sectionListRoute({ path: BASE, sections: () => remotes.list(), priv: 'Remote.Audit', acl: { perSection: (r) => `/remote/${r.name}`, auth }, show: describeRemote }),
    {
      method: 'POST',
      path: BASE,
      privilege: () => ({ path: '/remote', privs: ['Remote.Modify'] }),
      handler: async (i) => {
        const port = int(i.args, 'port');
        const fingerprint = text(i.args, 'fingerprint');
        const comment = text(i.args, 'comment');
        const r = await remotes.create({
          name: requiredText(i.args, 'name'),
          host: requiredText(i.args, 'host'),
          authId: requiredText(i.args, 'auth-id'),
          secret: requiredText(i.args, 'password'),
          ...(port === undefined ? {} : { port }),
          ...(fingerprint === undefined ? {} : { fingerprint }),
          ...(comment === undefined ? {} : { comment }),
        });
        return describeRemote(r);
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{name}`,
      privilege: (i) => ({ path: `/remote/${nameOf(i)}`, privs: ['Remote.Audit'] }),
      handler: async (i) => describeRemote(await remotes.get(nameOf(i))),
    },
    {
      method: 'PUT',
      path: `${BASE}/{name}`,
      privilege: (i) => ({ path: `/remote/${nameOf(i)}`, privs: ['Remote.Modify'] }),
      handler: async (i) => describeRemote(await remotes.update(nameOf(i), patchOf(i), { secretFollowsTarget: true })),
    },
    {
      method: 'DELETE',
      path: `${BASE}/{name}`,
      privilege: () => ({ path: '/remote', privs: ['Remote.Modify'] }),
      handler: async (i) => {
        await remotes.remove(nameOf(i));
        return null;
      },
    },
  ];
}
