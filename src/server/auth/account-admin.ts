/**
 * Account changes that touch more than one config file, shared by the access API and the CLI:
 * ACL updates check the path (PBS's templates), the role and that the user or token exists; deleting a user or token also
 * drops its ACL entries (a re-created account must not inherit old rights).
 *
 * The account file is changed first, the ACL second: a crash in between leaves ACL lines for an
 * id that no longer exists, which grant nothing and are dropped by the next delete or update.
 */
import { fail } from '../../core/errors.ts';
import { isRole } from '../../format/acl-config.ts';
import { authIdParts, parseAuthId, parseUserid } from '../../core/names.ts';
import { AclStore, withoutAuthId, withoutGrant, withoutUser } from './acl-store.ts';
import { checkAclPath } from './acl-path.ts';
import { ConfigDir } from './config-dir.ts';
import { UserStore } from './user-store.ts';

export interface AccountStores {
  readonly users: UserStore;
  readonly acl: AclStore;
}

export interface AclUpdate {
  readonly path: string;
  readonly role: string;
  readonly authId: string;
  /** Default true, as in PBS. */
  readonly propagate?: boolean;
  /** Remove the role instead of granting it. */
  readonly delete?: boolean;
}

export function openAccountStores(configDir: string): AccountStores {
  const config = new ConfigDir(configDir);
  return { users: new UserStore(config), acl: new AclStore(config) };
}

export async function updateAcl(stores: AccountStores, update: AclUpdate): Promise<void> {
  const { path, role, authId } = update;
  const parsed = authIdParts(parseAuthId(authId));
  if (!isRole(role)) throw fail('INVALID_ARGUMENT', `unknown role '${role}'`, { role, param: 'role' });
  if (update.delete === true) {
    await stores.acl.update((tree) => withoutGrant(tree, path, authId, role));
    return;
  }
  checkAclPath(path); // grants only: an old entry outside the templates can still be deleted
  const exists = parsed.tokenName === undefined ? await stores.users.get(authId) : await stores.users.getToken(authId);
  if (!exists) throw fail('NOT_FOUND', `no user or token '${authId}'`, { authId, param: 'auth-id' });
  await stores.acl.update((tree) => {
    tree.insert(path, authId, role, update.propagate ?? true);
    return tree;
  });
}

export async function deleteUser(stores: AccountStores, userid: string): Promise<void> {
  parseUserid(userid);
  await stores.users.remove(userid);
  await stores.acl.update((tree) => withoutUser(tree, userid));
}

export async function deleteToken(stores: AccountStores, tokenid: string): Promise<void> {
  await stores.users.removeToken(tokenid);
  await stores.acl.update((tree) => withoutAuthId(tree, tokenid));
}
