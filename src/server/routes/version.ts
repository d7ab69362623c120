/**
 * `GET /api2/json/version`: `{version, release, repoid, features}` as PBS answers it. Clients gate
 * optional behaviour on `features`; Holdfast announces none until it implements one.
 */
import type { Route } from '../router.ts';

export interface VersionInfo {
  readonly version: string;
  readonly release: string;
  readonly repoid: string;
  readonly features: readonly string[];
}

export const HOLDFAST_VERSION: VersionInfo = { version: '0.1', release: '0', repoid: 'holdfast', features: [] };

export function versionRoute(info: VersionInfo = HOLDFAST_VERSION): Route {
  return { method: 'GET', path: '/api2/json/version', privilege: () => null, handler: () => info };
}
