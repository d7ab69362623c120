/**
 * `holdfast datastore create|update|list|show|remove`: datastore administration on the config
 * dir, shaped like `proxmox-backup-manager datastore`. It edits the server's local files, so it
 * runs on the server host (local-config.ts says so when the config is not there).
 */
import type { Command } from 'commander';
import { DatastoreAdmin } from '../../datastore/datastore-admin.ts';
import { describeDatastore, tuningOf } from '../../datastore/datastore-config.ts';
import { NodeFs } from '../../storage/node-fs.ts';
import { resolveConfigDir, type CliContext, type OutputFormat } from '../context.ts';
import { emit, outputFormatOption, progressLine, renderTable } from '../render.ts';
import { noteMissingLocalConfig } from '../local-config.ts';

function admin(ctx: CliContext, program: Command): DatastoreAdmin {
  return new DatastoreAdmin(new NodeFs(), resolveConfigDir(ctx, program.opts<{ configDir?: string }>().configDir));
}

export function register(program: Command, ctx: CliContext): void {
  const ds = program.command('datastore').description('manage datastores (config in datastore.cfg)');

  ds.command('create <name> <path>')
    .description('create a datastore: the directory tree with 65536 chunk prefix dirs, and its config entry; with --backend type=s3,… PATH is the local cache and the chunks go to the bucket')
    .option('--tuning <string>', 'tuning property string, e.g. sync-level=file,gc-atime-cutoff=1445')
    .option('--comment <text>', 'free-text comment')
    .option('--backend <string>', 'where the chunks live: type=filesystem (default) or type=s3,client=ENDPOINT_ID,bucket=BUCKET[,cache-size=64G][,put-concurrency=8]')
    .option('--reuse-datastore', 'attach the datastore PATH (or the bucket prefix) holds already, e.g. on a new server with an empty cache; nothing is created or removed')
    .action(async (name: string, path: string, o: { tuning?: string; comment?: string; backend?: string; reuseDatastore?: boolean }) => {
      const bar = progressLine(ctx, 'Chunkstore create');
      const cfg = await admin(ctx, program)
        .create({
          name,
          path,
          ...(o.tuning !== undefined ? { tuning: o.tuning } : {}),
          ...(o.comment !== undefined ? { comment: o.comment } : {}),
          ...(o.backend !== undefined ? { backend: o.backend } : {}),
          reuse: o.reuseDatastore === true,
          onProgress: (d, t) => bar.update(d, t),
        })
        .finally(() => bar.end());
      ctx.out(`${o.reuseDatastore === true ? 'attached' : 'created'} datastore '${cfg.name}' at ${cfg.path} (sync-level ${tuningOf(cfg).syncLevel})`);
    });

  ds.command('update <name>')
    .description('change the tuning or comment of a datastore')
    .option('--tuning <string>', 'new tuning property string (replaces the old one; empty string resets to defaults)')
    .option('--comment <text>', 'new comment')
    .option('--gc-schedule <event>', 'GC schedule (calendar event), empty to clear')
    .option('--prune-schedule <event>', 'prune schedule (calendar event), empty to clear')
    .option('--verify-schedule <event>', 'verify schedule (calendar event): snapshots not verified yet, or last verified 30 days ago or more; empty to clear')
    .option('--verify-new <bool>', 'verify each new snapshot after its backup')
    .option('--maintenance-mode <mode>', "'read-only' or 'offline', optionally with ',message=TEXT' (e.g. 'type=read-only,message=disk swap'); empty to end maintenance")
    .action(async (name: string, o: { tuning?: string; comment?: string; gcSchedule?: string; pruneSchedule?: string; verifySchedule?: string; verifyNew?: string; maintenanceMode?: string }) => {
      const cfg = await admin(ctx, program).update(name, {
        tuning: o.tuning,
        comment: o.comment,
        'gc-schedule': o.gcSchedule,
        'prune-schedule': o.pruneSchedule,
        'verify-schedule': o.verifySchedule,
        'verify-new': o.verifyNew,
        'maintenance-mode': o.maintenanceMode,
      });
      ctx.out(`updated datastore '${cfg.name}' (sync-level ${tuningOf(cfg).syncLevel})`);
    });

  ds.command('list')
    .description('list datastores')
    .addOption(outputFormatOption())
    .action(async (o: { outputFormat: OutputFormat }) => {
      noteMissingLocalConfig(ctx, resolveConfigDir(ctx, program.opts<{ configDir?: string }>().configDir), 'datastore.cfg');
      const rows = (await admin(ctx, program).config.list()).map(describeDatastore);
      emit(ctx, o.outputFormat, rows, () => renderTable(rows, ['name', 'path', 'sync-level', 'comment']));
    });

  ds.command('show <name>')
    .description('show one datastore with its effective tuning')
    .addOption(outputFormatOption())
    .action(async (name: string, o: { outputFormat: OutputFormat }) => {
      const d = describeDatastore(await admin(ctx, program).config.get(name));
      emit(ctx, o.outputFormat, d, () => Object.entries(d).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${String(v as string)}`).join('\n'));
    });

  ds.command('remove <name>')
    .description('remove a datastore from the config (the data stays unless --destroy-data)')
    .option('--destroy-data', "also delete the datastore directory and everything in it; for an S3 datastore also every object under '<name>/' in its bucket (other stores' objects stay)")
    .action(async (name: string, o: { destroyData?: boolean }) => {
      const bar = progressLine(ctx, 'Removing objects');
      const { objectsRemoved } = await admin(ctx, program)
        .remove(name, { destroyData: o.destroyData === true, onProgress: (n) => bar.update(n, undefined) })
        .finally(() => bar.end());
      const objects = objectsRemoved > 0 ? ` (${objectsRemoved} objects in its bucket)` : '';
      ctx.out(`removed datastore '${name}'${o.destroyData ? ` and its data${objects}` : ''}`);
    });
}
