/**
 * `holdfast cert info|update`: the server's TLS certificate in the config dir (`proxy.pem`,
 * `proxy.key`), as `proxmox-backup-manager cert` manages PBS's. `info` shows the fingerprint that
 * clients pin (HOLDFAST_FINGERPRINT), subject, issuer, validity and names; `update --force`
 * replaces the certificate with a new self-signed one. A running server takes a new certificate
 * (this one, or an own one copied into the config dir) on SIGHUP, without a restart.
 */
import type { Command } from 'commander';
import { fail } from '../../core/errors.ts';
import { certificateInfo, CERT_FILE, readCertificate, renewSelfSigned } from '../../server/tls.ts';
import { resolveConfigDir, type CliContext, type OutputFormat } from '../context.ts';
import { emit, outputFormatOption, renderTable } from '../render.ts';

const RELOAD_HINT = 'a running server takes it on SIGHUP (kill -HUP with the pid of holdfast serve); clients must pin the new fingerprint';

export function register(program: Command, ctx: CliContext): void {
  const configDir = (): string => resolveConfigDir(ctx, program.opts<{ configDir?: string }>().configDir);
  const cert = program.command('cert').description('show or renew the server\'s TLS certificate (proxy.pem, proxy.key in the config dir)');
  cert
    .command('info')
    .description('show the certificate: the fingerprint clients pin, subject, issuer, validity, names')
    .addOption(outputFormatOption())
    .action(async (f: { outputFormat: OutputFormat }) => {
      const info = certificateInfo((await readCertificate(configDir())).cert);
      const rows = Object.entries(info).map(([field, value]) => ({ field, value: String(value) }));
      emit(ctx, f.outputFormat, info, () => renderTable(rows, ['field', 'value']));
    });
  cert
    .command('update')
    .description('replace the certificate with a new self-signed one (needs --force: clients pinning the old fingerprint stop trusting the server)')
    .option('--force', 'replace the existing certificate')
    .action(async (f: { force?: boolean }) => {
      const dir = configDir();
      if (f.force !== true) throw fail('INVALID_ARGUMENT', `this replaces ${CERT_FILE} in ${dir} and changes the fingerprint clients pin; add --force to go ahead`, { configDir: dir });
      const fresh = await renewSelfSigned(dir);
      ctx.out(`new self-signed certificate in ${dir}, fingerprint: ${fresh.fingerprint}`);
      ctx.out(RELOAD_HINT);
    });
}
