/**
 * `acl.cfg`: the access control list (VECTORS.md §13). One line per grant group:
 *
 *     acl:<propagate 0|1>:<path>:<ugid>[,<ugid>…]:<role>[,<role>…]
 *
 * The ACL is a tree of path components; each node maps an auth id (or group) to its roles, each
 * with a propagate flag. Resolving roles for a path walks from `/` down: a node that grants the
 * user anything replaces what was inherited; on the way down only propagating roles count, at the
 * final node all do. `NoAccess` is a role with no privileges, so it masks inherited grants.
 * Granting `NoAccess` on a node drops the user's other roles there, and granting anything else
 * drops `NoAccess`.
 *
 * The writer groups lines the way upstream does: per node and propagate flag, the roles held by
 * exactly the same set of ugids share one line.
 */
import { fail } from '../core/errors.ts';

export const PRIVILEGES = [
  'Sys.Audit',
  'Sys.Modify',
  'Sys.PowerManagement',
  'Datastore.Audit',
  'Datastore.Allocate',
  'Datastore.Modify',
  'Datastore.Read',
  'Datastore.Verify',
  'Datastore.Backup',
  'Datastore.Prune',
  'Permissions.Modify',
  'Remote.Audit',
  'Remote.Modify',
  'Remote.Read',
  'Remote.DatastoreBackup',
  'Remote.DatastoreModify',
  'Remote.DatastorePrune',
  'Sys.Console',
  'Tape.Audit',
  'Tape.Modify',
  'Tape.Write',
  'Tape.Read',
  'Realm.Allocate',
] as const;
export type Privilege = (typeof PRIVILEGES)[number];

/**
 * Role → privileges. The three `Remote*Push*`/`RemoteDatastore*` compositions are inferred from
 * upstream's documentation of push sync (UNCONFIRMED against source); the others are upstream's.
 */
export const ROLE_PRIVILEGES = {
  Admin: PRIVILEGES,
  Audit: ['Sys.Audit', 'Datastore.Audit'],
  NoAccess: [],
  DatastoreAdmin: ['Datastore.Audit', 'Datastore.Modify', 'Datastore.Read', 'Datastore.Verify', 'Datastore.Backup', 'Datastore.Prune'],
  DatastoreReader: ['Datastore.Audit', 'Datastore.Verify', 'Datastore.Read'],
  DatastoreBackup: ['Datastore.Backup'],
  DatastorePowerUser: ['Datastore.Prune', 'Datastore.Backup'],
  DatastoreAudit: ['Datastore.Audit'],
  RemoteAudit: ['Remote.Audit'],
  RemoteAdmin: ['Remote.Audit', 'Remote.Modify', 'Remote.Read'],
  RemoteSyncOperator: ['Remote.Audit', 'Remote.Read'],
  RemoteSyncPushOperator: ['Remote.Audit', 'Remote.DatastoreBackup'],
  RemoteDatastorePowerUser: ['Remote.Audit', 'Remote.DatastoreBackup', 'Remote.DatastorePrune'],
  RemoteDatastoreAdmin: ['Remote.Audit', 'Remote.DatastoreBackup', 'Remote.DatastoreModify', 'Remote.DatastorePrune'],
  TapeAudit: ['Tape.Audit'],
  TapeAdmin: ['Tape.Audit', 'Tape.Modify', 'Tape.Read', 'Tape.Write'],
  TapeOperator: ['Tape.Audit', 'Tape.Read', 'Tape.Write'],
  TapeReader: ['Tape.Audit', 'Tape.Read'],
} as const satisfies Record<string, readonly Privilege[]>;

export type Role = keyof typeof ROLE_PRIVILEGES;
export const ROLES = Object.keys(ROLE_PRIVILEGES) as Role[];

export function isRole(s: string): s is Role {
  return Object.hasOwn(ROLE_PRIVILEGES, s);
}

export function privilegesOf(roles: Iterable<Role>): Set<Privilege> {
  const out = new Set<Privilege>();
  for (const role of roles) for (const p of ROLE_PRIVILEGES[role]) out.add(p);
  return out;
}

export interface AclEntry {
  readonly path: string;
  readonly ugid: string;
  readonly role: Role;
  readonly propagate: boolean;
}

const ACL_PATH = /^(?:\/|(?:\/[A-Za-z0-9_][A-Za-z0-9._-]*)+)$/;

export function isAclPath(path: string): boolean {
  return path.length <= 128 && ACL_PATH.test(path);
}

function components(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

interface AclNode {
  /** ugid → role → propagate */
  readonly grants: Map<string, Map<Role, boolean>>;
  readonly children: Map<string, AclNode>;
}

const newNode = (): AclNode => ({ grants: new Map(), children: new Map() });

export class AclTree {
  readonly #root = newNode();

  /** Grants `role` to `ugid` at `path` (see the module comment for NoAccess). */
  insert(path: string, ugid: string, role: Role, propagate: boolean): void {
    if (!isAclPath(path)) throw fail('INVALID_ARGUMENT', `invalid ACL path '${path}'`, { path });
    let node = this.#root;
    for (const c of components(path)) {
      const child = node.children.get(c) ?? newNode();
      node.children.set(c, child);
      node = child;
    }
    const roles = node.grants.get(ugid) ?? new Map<Role, boolean>();
    if (role === 'NoAccess') roles.clear();
    else roles.delete('NoAccess');
    roles.set(role, propagate);
    node.grants.set(ugid, roles);
  }

  /** The roles `ugid` has at `path`, each with its propagate flag. */
  roles(ugid: string, path: string): Map<Role, boolean> {
    let result = new Map<Role, boolean>();
    const parts = components(path);
    let node: AclNode | undefined = this.#root;
    for (let depth = 0; node !== undefined; depth++) {
      const final = depth === parts.length;
      const here = [...(node.grants.get(ugid) ?? [])].filter(([, propagate]) => final || propagate);
      if (here.length > 0) result = new Map(here);
      if (final) break;
      node = node.children.get(parts[depth] ?? '');
    }
    return result;
  }

  /** Every grant, depth-first with children in name order. */
  entries(): AclEntry[] {
    const out: AclEntry[] = [];
    const walk = (node: AclNode, path: string): void => {
      for (const [ugid, roles] of node.grants) {
        for (const [role, propagate] of roles) out.push({ path, ugid, role, propagate });
      }
      for (const name of [...node.children.keys()].sort()) {
        walk(node.children.get(name) ?? newNode(), path === '/' ? `/${name}` : `${path}/${name}`);
      }
    };
    walk(this.#root, '/');
    return out;
  }
}

function lineError(fileName: string, lineNo: number, line: string, why: string): never {
  throw fail('INVALID_CONFIG', `${fileName}:${lineNo}: ${why}: '${line}'`, { file: fileName, line: lineNo, text: line });
}

function parseLine(tree: AclTree, fileName: string, lineNo: number, line: string): void {
  const parts = line.split(':');
  if (parts.length !== 5 || parts[0] !== 'acl') lineError(fileName, lineNo, line, "expected 'acl:<propagate>:<path>:<ugids>:<roles>'");
  const [, propagate = '', path = '', ugids = '', roles = ''] = parts;
  if (propagate !== '0' && propagate !== '1') lineError(fileName, lineNo, line, `propagate must be 0 or 1, got '${propagate}'`);
  if (!isAclPath(path)) lineError(fileName, lineNo, line, `invalid path '${path}'`);
  const ugidList = ugids.split(',');
  if (ugidList.some((u) => u === '' || /\s/.test(u))) lineError(fileName, lineNo, line, `invalid user/token list '${ugids}'`);
  for (const role of roles.split(',')) {
    if (!isRole(role)) lineError(fileName, lineNo, line, `unknown role '${role}'`);
    for (const ugid of ugidList) tree.insert(path, ugid, role, propagate === '1');
  }
}

export function parseAclConfig(text: string, fileName: string): AclTree {
  const tree = new AclTree();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line !== '') parseLine(tree, fileName, index + 1, line);
  });
  return tree;
}

/** Writes the tree, grouping roles held by the same ugid set into one line (sorted, stable). */
export function formatAclConfig(tree: AclTree): string {
  const byNode = new Map<string, AclEntry[]>();
  for (const e of tree.entries()) byNode.set(e.path, [...(byNode.get(e.path) ?? []), e]);
  const lines: string[] = [];
  for (const [path, entries] of byNode) {
    for (const propagate of [false, true]) {
      const ugidsByRole = new Map<Role, string[]>();
      for (const e of entries.filter((x) => x.propagate === propagate)) {
        ugidsByRole.set(e.role, [...(ugidsByRole.get(e.role) ?? []), e.ugid]);
      }
      const rolesByUgids = new Map<string, Role[]>();
      for (const [role, ugids] of ugidsByRole) {
        const key = [...new Set(ugids)].sort().join(',');
        rolesByUgids.set(key, [...(rolesByUgids.get(key) ?? []), role]);
      }
      for (const ugids of [...rolesByUgids.keys()].sort()) {
        const roles = [...(rolesByUgids.get(ugids) ?? [])].sort();
        lines.push(`acl:${propagate ? 1 : 0}:${path}:${ugids}:${roles.join(',')}\n`);
      }
    }
  }
  return lines.join('');
}

/** The ACL path of a datastore's namespace: `/datastore/{store}[/{ns}]`. */
export function datastoreAclPath(store: string, ns = ''): string {
  return ns === '' ? `/datastore/${store}` : `/datastore/${store}/${ns}`;
}
