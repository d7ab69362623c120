/**
 * `acl.cfg` in the config dir, in the format of `format/acl-config.ts`: read without a lock
 * (atomic renames), changed only under `.acl.lck` by re-reading, editing and writing back durably.
 *
 * Removals rebuild the tree from its entries minus the dropped ones; the format module's tree
 * only grows, and a rebuild keeps its invariants (NoAccess alone on a node) by construction.
 */
import { AclTree, formatAclConfig, parseAclConfig, type AclEntry, type Role } from '../../format/acl-config.ts';
import { isValidAuthId, userOf } from './auth-id.ts';
import type { ConfigDir } from './config-dir.ts';

export const ACL_CFG = 'acl.cfg';

/** One grant as PBS's ACL API lists it; a type alias so table renderers accept it. */
export type AclApiEntry = {
  readonly path: string;
  readonly ugid: string;
  readonly ugid_type: 'user' | 'group';
  readonly roleid: Role;
  readonly propagate: boolean;
};

export function aclApiEntries(tree: AclTree): AclApiEntry[] {
  return tree.entries().map((e) => ({
    path: e.path,
    ugid: e.ugid,
    ugid_type: e.ugid.startsWith('@') ? 'group' : 'user',
    roleid: e.role,
    propagate: e.propagate,
  }));
}

/** A copy of `tree` without the entries `drop` selects. */
export function withoutEntries(tree: AclTree, drop: (e: AclEntry) => boolean): AclTree {
  const next = new AclTree();
  for (const e of tree.entries()) if (!drop(e)) next.insert(e.path, e.ugid, e.role, e.propagate);
  return next;
}

export function withoutGrant(tree: AclTree, path: string, ugid: string, role: Role): AclTree {
  return withoutEntries(tree, (e) => e.path === path && e.ugid === ugid && e.role === role);
}

/** Drops a user's entries and those of its tokens. */
export function withoutUser(tree: AclTree, userid: string): AclTree {
  return withoutEntries(tree, (e) => isValidAuthId(e.ugid) && userOf(e.ugid) === userid);
}

export function withoutAuthId(tree: AclTree, authId: string): AclTree {
  return withoutEntries(tree, (e) => e.ugid === authId);
}

export class AclStore {
  readonly #config: ConfigDir;

  constructor(config: ConfigDir) {
    this.#config = config;
  }

  async load(): Promise<AclTree> {
    return parseAclConfig((await this.#config.read(ACL_CFG)) ?? '', ACL_CFG);
  }

  /** Saves the tree `edit` returns (the same one, changed in place, or a rebuilt one). */
  async update(edit: (tree: AclTree) => AclTree): Promise<void> {
    await this.#config.locked('acl', async () => {
      await this.#config.write(ACL_CFG, formatAclConfig(edit(await this.load())));
    });
  }
}
