/**
 * The GET that lists a config's sections (datastores, remotes, S3 endpoints), with the caller's
 * audit privilege checked as PBS checks it. Two shapes:
 * - `perSection`: each section has its own ACL path (`/datastore/{name}`, `/remote/{name}`); any
 *   authenticated caller may list, and sees only the sections on whose path it holds `priv`
 *   (none: an empty list, never a 403, so a listing does not tell what exists);
 * - `shared`: one ACL path covers every section (`/system/s3-endpoint`); a caller without `priv`
 *   there is refused (403) and any other sees them all.
 */
import type { Privilege } from '../../format/acl-config.ts';
import type { AuthPort } from '../auth/authenticator.ts';
import type { Route } from '../router.ts';
import { hasPrivilege } from './backup-protocols.ts';

export type SectionAcl<T> =
  | { readonly perSection: (section: T) => string; readonly auth: Pick<AuthPort, 'checkPrivilege'> }
  | { readonly shared: string };

export interface SectionListSpec<T> {
  /** the route path (`/api2/json/config/…`) */
  readonly path: string;
  readonly sections: () => Promise<readonly T[]>;
  readonly priv: Privilege;
  readonly acl: SectionAcl<T>;
  /** what the answer carries of a section (never a secret) */
  readonly show: (section: T) => unknown;
}

export function sectionListRoute<T>(spec: SectionListSpec<T>): Route {
  const acl = spec.acl;
  if ('shared' in acl) {
    return { method: 'GET', path: spec.path, privilege: () => ({ path: acl.shared, privs: [spec.priv] }), handler: async () => (await spec.sections()).map(spec.show) };
  }
  return {
    method: 'GET',
    path: spec.path,
    privilege: () => null,
    handler: async (i) => {
      const out: unknown[] = [];
      for (const s of await spec.sections()) if (await hasPrivilege(acl.auth, i.authId, acl.perSection(s), [spec.priv])) out.push(spec.show(s));
      return out;
    },
  };
}
