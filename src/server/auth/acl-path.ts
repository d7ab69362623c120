/**
 * The ACL paths PBS accepts (its `check_acl_path`): a grant names `/`, or a path of one of the
 * objects below, each component a safe id. Anything else (`/etc/passwd`) is refused before it
 * reaches `acl.cfg`, so the file only holds paths that some privilege check can ask about.
 *
 *     /access[/acl|/users|/domains|/openid/{realm}]
 *     /datastore[/{store}[/{ns…} up to 7 levels]]
 *     /remote[/{remote}[/{store}[/{ns…} up to 7 levels]]]
 *     /system[/certificates|/disks|/encryption-keys|/log|/notifications|/status|/tasks|/time
 *             |/services[/{service}]|/network[/dns|/interfaces[/{iface}]]]
 *     /tape[/device[/{name}]|/pool[/{name}]|/job[/{id}]]
 */
import { fail } from '../../core/errors.ts';
import { MAX_NAMESPACE_DEPTH } from '../../core/names.ts';
import { isAclPath } from '../../format/acl-config.ts';

const SYSTEM_LEAVES = ['certificates', 'disks', 'encryption-keys', 'log', 'notifications', 'status', 'tasks', 'time'] as const;
const TAPE_KINDS = ['device', 'pool', 'job'] as const;

const isOneOf = (list: readonly string[], s: string | undefined): boolean => s !== undefined && list.includes(s);

/** Whether the components (after the first) fit the template of their root object. */
function fitsTemplate(parts: readonly string[]): boolean {
  const [root, second, third] = parts;
  const n = parts.length;
  switch (root) {
    case 'access':
      return n === 1 || (n === 2 && isOneOf(['acl', 'users', 'domains'], second)) || (second === 'openid' && n <= 3);
    case 'datastore':
      return n <= 2 + MAX_NAMESPACE_DEPTH;
    case 'remote':
      return n <= 3 + MAX_NAMESPACE_DEPTH;
    case 'system':
      if (n === 1 || (n === 2 && isOneOf(SYSTEM_LEAVES, second))) return true;
      if (second === 'services') return n <= 3;
      if (second !== 'network') return false;
      return n === 2 || (n === 3 && third === 'dns') || (third === 'interfaces' && n <= 4);
    case 'tape':
      return n === 1 || (isOneOf(TAPE_KINDS, second) && n <= 3);
    default:
      return false;
  }
}

export function isValidAclPath(path: string): boolean {
  if (path === '/') return true;
  return isAclPath(path) && fitsTemplate(path.slice(1).split('/'));
}

/** Returns `path` if PBS would accept it in an ACL; otherwise INVALID_ARGUMENT naming it. */
export function checkAclPath(path: string): string {
  if (!isValidAclPath(path)) throw fail('INVALID_ARGUMENT', `invalid ACL path '${JSON.stringify(path).slice(1, -1)}'`, { param: 'path', value: path });
  return path;
}
