/**
 * The `datastore`, `user` and `acl` commands edit the server's config files directly (like
 * `proxmox-backup-manager`), not through the API. Run elsewhere, or with the wrong config dir, a
 * listing would silently be empty; this note on stderr says why instead.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CliContext } from './context.ts';

export function noteMissingLocalConfig(ctx: CliContext, configDir: string, file: string): void {
  if (existsSync(join(configDir, file))) return;
  ctx.err(
    `note: no ${file} in ${configDir}. The datastore, user and acl commands edit the server's own config files: ` +
      'run them on the server host with --config-dir or HOLDFAST_CONFIG_DIR set to its config dir.',
  );
}
