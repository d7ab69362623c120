/**
 * The job kinds a server schedules: every kind with a `scheduled` is asked for its instances on
 * each scheduler tick. A new kind of job is one more entry here (and its routes), nothing else.
 */
import { registered, type AnyJobKind } from './job-kinds.ts';
import { gcKind, pruneGroupKind, pruneJobKind, verifyKind } from './maintenance-kinds.ts';
import { syncKind } from './sync/sync-kind.ts';

export const DEFAULT_JOB_KINDS: readonly AnyJobKind[] = [registered(gcKind), registered(pruneJobKind), registered(verifyKind), registered(pruneGroupKind), registered(syncKind)];
