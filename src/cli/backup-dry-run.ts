/**
 * `holdfast backup --dry-run`: everything a backup checks before it uploads (the specs, the
 * sources, the exclusion patterns, the key, the credentials and the server's certificate, the
 * datastore and namespace), then what it would upload: each directory walked as the backup walks
 * it (the same walker, `surveyTree`: exclusions, `.pxarexclude` files, filesystem boundaries,
 * hardlinks; metadata read, no file content), each image's and file's size, the archives it would
 * write, and the group the snapshot would join.
 *
 * Invariant: nothing is uploaded and no backup session is opened, so the server holds no new
 * snapshot afterwards, not even an unfinished one; the only requests are the login and the group
 * listing of the namespace.
 */
import { stat } from 'node:fs/promises';
import { deviceFilter, type ExcludeScope } from '../client/exclude-rules.ts';
import { imageSize } from '../client/image-source.ts';
import { surveyTree, type TreeSurvey } from '../client/pxar-create.ts';
import { formatTime } from '../core/backup-ref.ts';
import { CATALOG_NAME } from '../core/names.ts';
import { formatSize } from './benchmark/units.ts';
import { openClient, type ClientFlags } from './client-options.ts';
import type { CliContext } from './context.ts';
import type { GroupEntry } from './commands/list.ts';
import { renderTable } from './render.ts';

/** A checked backup (commands/backup.ts `prepareBackup` gives one). */
export interface DryRunInput {
  readonly parsed: readonly { readonly name: string; readonly kind: 'img' | 'pxar' | 'conf'; readonly path: string }[];
  readonly exclude: ExcludeScope;
  readonly mode: 'legacy' | 'data' | 'metadata';
  readonly type: string;
  readonly id: string;
  readonly ns: string;
  readonly time: number;
  readonly loaded: object | undefined;
}

export interface DryRunFlags extends ClientFlags {
  readonly includeDev?: readonly string[];
  readonly allFileSystems?: boolean;
}

export interface DryRunArchive {
  /** the archives the spec becomes on the server (a split directory archive: two) */
  readonly archives: readonly string[];
  readonly source: string;
  readonly kind: 'directory' | 'image' | 'file';
  /** file bytes of a directory, an image's size, a file's size */
  readonly bytes: number;
  readonly entries?: TreeSurvey;
}

export interface DryRunPlan {
  readonly dryRun: true;
  readonly datastore: string;
  readonly snapshot: string;
  readonly encrypted: boolean;
  readonly changeDetectionMode: DryRunInput['mode'];
  /** the group the snapshot would join, when it exists (and the caller may see it) */
  readonly group: { readonly snapshots: number; readonly lastBackup: string | null } | null;
  readonly archives: readonly DryRunArchive[];
  /** the snapshot's catalog, which a legacy directory archive comes with (pxar-upload.ts) */
  readonly catalog: string | null;
  /** entries a backup would leave out (unreadable, vanished) */
  readonly warnings: readonly string[];
}

export async function dryRunBackup(ctx: CliContext, p: DryRunInput, f: DryRunFlags): Promise<DryRunPlan> {
  const { repo, client } = await openClient(ctx, f);
  // the namespace must exist and the caller must be let in: the listing fails where a backup would
  const groups = (await client.call('GET', `admin/datastore/${repo.store}/groups`, p.ns ? { ns: p.ns } : {})) as GroupEntry[];
  const mine = groups.find((g) => g['backup-type'] === p.type && g['backup-id'] === p.id);
  const warnings: string[] = [];
  const archives: DryRunArchive[] = [];
  for (const s of p.parsed) {
    if (s.kind === 'pxar') {
      const descendInto = await deviceFilter((await stat(s.path, { bigint: true })).dev, f.includeDev ?? [], f.allFileSystems === true);
      const entries = await surveyTree(s.path, { exclude: p.exclude, descendInto, onWarning: (w) => warnings.push(`${s.name}: ${w.path}: ${w.message}`) });
      const base = s.name.replace(/\.pxar$/, '');
      const names = p.mode === 'legacy' ? [`${s.name}.didx`] : [`${base}.mpxar.didx`, `${base}.ppxar.didx`];
      archives.push({ archives: names, source: s.path, kind: 'directory', bytes: entries.bytes, entries });
    } else if (s.kind === 'img') {
      archives.push({ archives: [`${s.name}.fidx`], source: s.path, kind: 'image', bytes: await imageSize(s.path) });
    } else {
      archives.push({ archives: [`${s.name}.blob`], source: s.path, kind: 'file', bytes: (await stat(s.path)).size });
    }
  }
  const snapshot = `${p.ns ? `ns/${p.ns}/` : ''}${p.type}/${p.id}/${formatTime(p.time)}`;
  const group = mine ? { snapshots: mine['backup-count'], lastBackup: mine['last-backup'] === null ? null : formatTime(mine['last-backup']) } : null;
  const catalog = p.mode === 'legacy' && p.parsed.some((s) => s.kind === 'pxar') ? CATALOG_NAME : null;
  return { dryRun: true, datastore: repo.store, snapshot, encrypted: p.loaded !== undefined, changeDetectionMode: p.mode, group, archives, catalog, warnings };
}

export function renderDryRun(plan: DryRunPlan): string {
  const lines = [`dry run: nothing was uploaded; the backup would be ${plan.snapshot} in datastore ${plan.datastore}${plan.encrypted ? ' (encrypted)' : ''}`];
  if (plan.group === null) lines.push('its group does not exist yet: every file would be read');
  else {
    const reuse = plan.changeDetectionMode === 'metadata' ? '; files unchanged since then would be reused unread' : '';
    lines.push(`its group holds ${plan.group.snapshots} snapshot(s)${plan.group.lastBackup === null ? '' : `, the last from ${plan.group.lastBackup}`}${reuse}`);
  }
  const rows = plan.archives.map((a) => ({ archive: a.archives.join(' + '), source: a.source, contents: contents(a) }));
  if (plan.catalog !== null) rows.push({ archive: plan.catalog, source: '', contents: 'the file listing of the directory archives' });
  lines.push(renderTable(rows, ['archive', 'source', 'contents']));
  for (const w of plan.warnings) lines.push(`warning: ${w} (would be left out)`);
  return lines.join('\n');
}

function contents(a: DryRunArchive): string {
  const e = a.entries;
  if (e === undefined) return formatSize(a.bytes);
  const parts = [count(e.files, 'file'), count(e.directories, 'directory', 'directories')];
  if (e.symlinks > 0) parts.push(count(e.symlinks, 'symlink'));
  if (e.hardlinks > 0) parts.push(count(e.hardlinks, 'hardlink'));
  if (e.other > 0) parts.push(count(e.other, 'device, fifo or socket', 'devices, fifos or sockets'));
  return `${parts.join(', ')}; ${formatSize(a.bytes)}`;
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
