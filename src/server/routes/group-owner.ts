/**
 * `POST /api2/json/admin/datastore/{store}/change-owner` (PBS's path and parameters: backup-type,
 * backup-id, new-owner, ns): hands a backup group to another user or API token, so that a new
 * token can go on backing up into the group its predecessor made.
 *
 * Privileges, as PBS checks them on `/datastore/{store}[/{ns}]`:
 * - Datastore.Modify: any group, to any owner;
 * - Datastore.Backup alone: only between a user and that user's own tokens, by the user itself
 *   (`mayHandOver`): a token may not give a group away, and no one may give one to another user.
 * The new owner must be an active account (it exists, is enabled and has not expired), else
 * INVALID_ARGUMENT; the group must exist (NOT_FOUND). The owner file is written atomically at the
 * datastore's sync level; a backup already running keeps the owner it was started under.
 */
import { groupRef, requiredText } from '../../core/args.ts';
import { fail } from '../../core/errors.ts';
import { authIdParts, parseAuthId, type AuthId } from '../../core/names.ts';
import type { DatastoreRegistry } from '../datastores/datastore-registry.ts';
import type { Route } from '../router.ts';
import { scopeOf, type DatastoreAccess } from './datastore-admin.ts';

const BASE = '/api2/json/admin/datastore';

/** What the route needs beyond privileges: whether an account may own a group now. */
export interface OwnerAccess extends DatastoreAccess {
  isActiveAccount(authId: string): Promise<boolean>;
}

/**
 * Whether `caller`, holding Datastore.Backup but not Datastore.Modify, may hand a group owned by
 * `owner` to `newOwner`: the caller is a user (not a token), both owners are that user or its
 * tokens, and not both the user itself (PBS refuses user to user without Modify).
 */
export function mayHandOver(caller: string, owner: string, newOwner: string): boolean {
  if (authIdParts(caller as AuthId).tokenName !== undefined) return false;
  const mine = (id: string): boolean => authIdParts(id as AuthId).user === caller;
  return mine(owner) && mine(newOwner) && !(owner === caller && newOwner === caller);
}

export function groupOwnerRoutes(registry: DatastoreRegistry, auth: OwnerAccess): Route[] {
  return [
    {
      method: 'POST',
      path: `${BASE}/{store}/change-owner`,
      privilege: () => null,
      handler: async (i) => {
        const scope = await scopeOf(auth, i, 'Datastore.Modify', 'Datastore.Backup');
        const g = groupRef(i.args);
        const newOwner = parseAuthId(requiredText(i.args, 'new-owner'));
        const store = await registry.get(i.params['store'] ?? '', 'write');
        const owner = await store.getOwner(g);
        const shown = `${g.ns ? `${g.ns}:` : ''}${g.type}/${g.id}`;
        if (owner === undefined) throw fail('NOT_FOUND', `backup group ${shown} does not exist`, { group: shown });
        if (scope === 'owned' && !mayHandOver(i.authId, owner, newOwner)) {
          throw fail('FORBIDDEN', `${i.authId} may not hand the group ${shown} from ${owner} to ${newOwner} (only between a user and its own tokens without Datastore.Modify)`, { authId: i.authId });
        }
        if (!(await auth.isActiveAccount(newOwner))) {
          throw fail('INVALID_ARGUMENT', `${authIdParts(newOwner).tokenName === undefined ? 'user' : 'API token'} '${newOwner}' does not exist or is not active`, { param: 'new-owner', value: newOwner });
        }
        await store.setOwner(g, newOwner);
        return null;
      },
    },
  ];
}
