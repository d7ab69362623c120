/**
 * `holdfast notification`: targets (webhook, SMTP) and matchers in notifications.cfg, edited
 * locally like `holdfast datastore` (the server reads the file for every event, so changes apply
 * at once), and `endpoint test` to send a test notification from here. Secrets come from the
 * environment (HOLDFAST_NOTIFY_SECRET: an SMTP password or a webhook Authorization header), never
 * from the command line, and are kept in notifications-secrets.json (0600).
 */
import { Option, type Command } from 'commander';
import { fail } from '../../core/errors.ts';
import { stderrLogger } from '../../core/log.ts';
import { checkName, checkUrl, NotificationConfigFile, SEVERITIES, SMTP_MODES, type NotificationConfig, type Severity, type SmtpMode, type Target } from '../../server/notifications/notification-config.ts';
import { checkMatchTypes, Notifier, TASK_TYPES } from '../../server/notifications/notifier.ts';
import { NodeFs } from '../../storage/node-fs.ts';
import { resolveConfigDir, type CliContext, type OutputFormat } from '../context.ts';
import { emit, outputFormatOption, renderTable } from '../render.ts';

const SECRET_ENV = 'HOLDFAST_NOTIFY_SECRET';

function file(ctx: CliContext, program: Command): NotificationConfigFile {
  return new NotificationConfigFile(new NodeFs(), resolveConfigDir(ctx, program.opts<{ configDir?: string }>().configDir));
}

const csv = (s: string | undefined): string[] => (s ? s.split(',').map((x) => x.trim()).filter((x) => x !== '') : []);

interface EndpointFlags {
  readonly type: 'webhook' | 'smtp';
  readonly url?: string;
  readonly server?: string;
  readonly port?: string;
  readonly mode?: string;
  readonly fromAddress?: string;
  readonly mailto?: string;
  readonly username?: string;
  readonly comment?: string;
}

function endpointFrom(name: string, f: EndpointFlags): Target {
  const comment = f.comment ? { comment: f.comment } : {};
  if (f.type === 'webhook') {
    if (!f.url) throw fail('INVALID_ARGUMENT', 'a webhook endpoint needs --url', {});
    return { kind: 'webhook', name: checkName(name), url: checkUrl(f.url), ...comment };
  }
  if (!f.server || !f.fromAddress || !f.mailto) throw fail('INVALID_ARGUMENT', 'an smtp endpoint needs --server, --from-address and --mailto', {});
  return {
    kind: 'smtp',
    name: checkName(name),
    server: f.server,
    port: Number(f.port ?? (f.mode === 'tls' ? 465 : f.mode === 'insecure' ? 25 : 587)),
    mode: (f.mode ?? 'starttls') as SmtpMode,
    fromAddress: f.fromAddress,
    mailto: csv(f.mailto),
    ...(f.username ? { username: f.username } : {}),
    ...comment,
  };
}

function describe(t: Target): Record<string, unknown> {
  return t.kind === 'webhook' ? { name: t.name, type: 'webhook', destination: t.url, comment: t.comment } : { name: t.name, type: 'smtp', destination: `${t.mailto.join(',')} via ${t.server}:${t.port} (${t.mode})`, comment: t.comment };
}

export function register(program: Command, ctx: CliContext): void {
  const n = program.command('notification').description('send task outcomes (GC, verify, prune, backup, …) to webhooks and mail (notifications.cfg)');
  const ep = n.command('endpoint').description('notification targets: webhook or SMTP');

  ep.command('create <name>')
    .description(`add a target; its secret (SMTP password or webhook Authorization header) is read from $${SECRET_ENV}`)
    .addOption(new Option('--type <type>', 'target type').choices(['webhook', 'smtp']).makeOptionMandatory())
    .option('--url <url>', 'webhook: the URL to POST the JSON notification to')
    .option('--server <host>', 'smtp: mail server')
    .option('--port <port>', 'smtp: port (default 587 for starttls, 465 for tls, 25 for insecure)')
    .addOption(new Option('--mode <mode>', 'smtp: connection security').choices(SMTP_MODES))
    .option('--from-address <addr>', 'smtp: sender address')
    .option('--mailto <list>', 'smtp: recipients, comma-separated')
    .option('--username <user>', 'smtp: login user (password from $' + SECRET_ENV + ')')
    .option('--comment <text>', 'free-text comment')
    .action(async (name: string, f: EndpointFlags) => {
      const t = endpointFrom(name, f);
      const secret = ctx.env[SECRET_ENV];
      await file(ctx, program).update(
        (c) => {
          if (c.targets.some((x) => x.name === name) || c.matchers.some((m) => m.name === name)) throw fail('ALREADY_EXISTS', `notification target or matcher '${name}' exists already`, { name });
          return { ...c, targets: [...c.targets, t] };
        },
        secret ? { [name]: secret } : {},
      );
      ctx.out(`created ${t.kind} endpoint '${name}'${secret ? ' (secret stored)' : ''}`);
    });

  ep.command('list')
    .description('list targets')
    .addOption(outputFormatOption())
    .action(async (o: { outputFormat: OutputFormat }) => {
      const rows = (await file(ctx, program).load()).targets.map(describe);
      emit(ctx, o.outputFormat, rows, () => renderTable(rows, ['name', 'type', 'destination', 'comment']));
    });

  ep.command('delete <name>')
    .description('remove a target (refused while a matcher names it)')
    .action(async (name: string) => {
      await file(ctx, program).update((c) => {
        if (!c.targets.some((t) => t.name === name)) throw fail('NOT_FOUND', `no notification target '${name}'`, { name });
        return { ...c, targets: c.targets.filter((t) => t.name !== name) };
      }, { [name]: null });
      ctx.out(`deleted endpoint '${name}'`);
    });

  ep.command('test <name>')
    .description('send a test notification to a target now; fails if it is not delivered')
    .action(async (name: string) => {
      await new Notifier({ config: file(ctx, program), log: stderrLogger() }).test(name);
      ctx.out(`test notification delivered to '${name}'`);
    });

  const m = n.command('matcher').description('which task outcomes go to which targets');
  m.command('create <name>')
    .description('add a matcher: notifications whose severity and task type match go to its targets')
    .requiredOption('--target <list>', 'target names, comma-separated')
    .option('--match-severity <list>', `severities, comma-separated (${SEVERITIES.join(', ')}; default all)`)
    .option('--match-type <list>', `task types, comma-separated (${TASK_TYPES.join(', ')}; default all)`)
    .option('--comment <text>', 'free-text comment')
    .action(async (name: string, f: { target: string; matchSeverity?: string; matchType?: string; comment?: string }) => {
      const severities = csv(f.matchSeverity);
      for (const s of severities) if (!(SEVERITIES as readonly string[]).includes(s)) throw fail('INVALID_ARGUMENT', `--match-severity '${s}' is not one of ${SEVERITIES.join(', ')}`, { value: s });
      checkMatchTypes(csv(f.matchType));
      await file(ctx, program).update((c: NotificationConfig) => {
        if (c.targets.some((x) => x.name === name) || c.matchers.some((x) => x.name === name)) throw fail('ALREADY_EXISTS', `notification target or matcher '${name}' exists already`, { name });
        return { ...c, matchers: [...c.matchers, { name: checkName(name), severities: severities as Severity[], types: csv(f.matchType), targets: csv(f.target), ...(f.comment ? { comment: f.comment } : {}) }] };
      });
      ctx.out(`created matcher '${name}'`);
    });

  m.command('list')
    .description('list matchers')
    .addOption(outputFormatOption())
    .action(async (o: { outputFormat: OutputFormat }) => {
      const rows = (await file(ctx, program).load()).matchers.map((x) => ({ name: x.name, severity: x.severities.join(',') || 'any', type: x.types.join(',') || 'any', target: x.targets.join(','), comment: x.comment }));
      emit(ctx, o.outputFormat, rows, () => renderTable(rows, ['name', 'severity', 'type', 'target', 'comment']));
    });

  m.command('delete <name>')
    .description('remove a matcher')
    .action(async (name: string) => {
      await file(ctx, program).update((c) => {
        if (!c.matchers.some((x) => x.name === name)) throw fail('NOT_FOUND', `no matcher '${name}'`, { name });
        return { ...c, matchers: c.matchers.filter((x) => x.name !== name) };
      });
      ctx.out(`deleted matcher '${name}'`);
    });
}
