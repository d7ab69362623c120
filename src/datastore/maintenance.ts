/**
 * Maintenance mode of a datastore, as PBS has it (`maintenance-mode` in datastore.cfg, a property
 * string `type=read-only|offline[,message=TEXT]`):
 *
 * - `read-only`: snapshots can be listed, read and restored; nothing that writes starts (backups,
 *   GC, prune, forget, verify, notes, protection, namespaces).
 * - `offline`: nothing starts at all, not even a listing; only the config can be changed.
 *
 * It is checked where an operation opens the store (`DatastoreRegistry.get(name, access)`), so an
 * operation already running when the mode is set runs to its end; the mode applies to everything
 * that starts afterwards. A refused operation fails with DATASTORE_MAINTENANCE (HTTP 503) and the
 * operator's message.
 */
import { fail } from '../core/errors.ts';
import { parsePropertyMap } from '../format/property-string.ts';

export const MAINTENANCE_TYPES = ['read-only', 'offline'] as const;
export type MaintenanceType = (typeof MAINTENANCE_TYPES)[number];

/** What an operation does to the store. */
export type StoreAccess = 'read' | 'write';

export interface MaintenanceMode {
  readonly type: MaintenanceType;
  readonly message?: string;
}

/** The mode of a `maintenance-mode` value; undefined (none) for an absent or empty one. */
export function parseMaintenanceMode(text: string | undefined): MaintenanceMode | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const p = parsePropertyMap(text, { defaultKey: 'type' });
  for (const k of p.keys()) if (k !== 'type' && k !== 'message') throw fail('INVALID_ARGUMENT', `maintenance-mode: unknown key '${k}' (type, message)`, { key: k });
  const type = p.get('type');
  if (!(MAINTENANCE_TYPES as readonly (string | undefined)[]).includes(type)) throw fail('INVALID_ARGUMENT', `maintenance-mode: type must be ${MAINTENANCE_TYPES.join(' or ')}, got '${type ?? ''}'`, { value: type });
  const message = p.get('message');
  if (message !== undefined && (message.length > 256 || /[\n\r]/.test(message))) throw fail('INVALID_ARGUMENT', 'maintenance-mode: message must be one line of at most 256 characters', {});
  return { type: type as MaintenanceType, ...(message ? { message } : {}) };
}

/** Throws DATASTORE_MAINTENANCE when `mode` refuses `access`. */
export function checkMaintenance(store: string, mode: MaintenanceMode | undefined, access: StoreAccess): void {
  if (mode === undefined || (mode.type === 'read-only' && access === 'read')) return;
  const why = mode.type === 'offline' ? 'is offline' : 'is read-only';
  throw fail('DATASTORE_MAINTENANCE', `datastore '${store}' ${why} for maintenance${mode.message ? `: ${mode.message}` : ''}`, { store, mode: mode.type });
}
