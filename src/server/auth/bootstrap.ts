/**
 * First start: with no `user.cfg` yet, create `admin@pbs` with a random password and give it the
 * Admin role on `/`. The password is returned once for the serve command to print; only its hash
 * is kept. Later starts (user.cfg exists) do nothing, so deleting the admin stays deleted.
 *
 * The ACL line is written before the user: a crash between the two leaves a role for a user that
 * does not exist yet, which grants nothing, and the next start retries the whole bootstrap.
 */
import { randomBytes } from 'node:crypto';
import { isHoldfastError } from '../../core/errors.ts';
import { AclStore } from './acl-store.ts';
import { ConfigDir } from './config-dir.ts';
import { UserStore } from './user-store.ts';

export const BOOTSTRAP_ADMIN = 'admin@pbs';

/** The new admin's password, or null when the server was set up before. */
export async function bootstrapAdmin(configDir: string): Promise<string | null> {
  const config = new ConfigDir(configDir);
  await config.ensure();
  const users = new UserStore(config);
  if (await users.initialized()) return null;
  const password = randomBytes(18).toString('base64url');
  await new AclStore(config).update((tree) => {
    tree.insert('/', BOOTSTRAP_ADMIN, 'Admin', true);
    return tree;
  });
  try {
    await users.create(BOOTSTRAP_ADMIN, { password, comment: 'created on first start' });
  } catch (e) {
    if (isHoldfastError(e, 'ALREADY_EXISTS')) return null;
    throw e;
  }
  return password;
}
