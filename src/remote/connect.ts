/**
 * From a repository string and the environment to a logged-in HttpClient, the way
 * proxmox-backup-client does it: `--repository [[USER@REALM[!TOKEN]]@]HOST[:PORT]:STORE`, else
 * `HOLDFAST_REPOSITORY` (or `PBS_REPOSITORY`); the password or token secret from
 * `HOLDFAST_PASSWORD` (or `PBS_PASSWORD`); the pinned certificate fingerprint from
 * `--fingerprint` or `HOLDFAST_FINGERPRINT` (or `PBS_FINGERPRINT`). Without a user the auth id
 * is `admin@pbs`, the admin Holdfast creates on first start (PBS would use root@pam).
 */
import { fail, isHoldfastError } from '../core/errors.ts';
import { traceMark } from '../core/trace-timing.ts';
import { authIdParts, type AuthId } from '../core/names.ts';
import { HttpClient } from './http-client.ts';
import { parseRepository, repositoryHost, repositoryPort, type Repository } from './repository.ts';
import { TicketCache, type TicketScope } from './ticket-cache.ts';

export const HOLDFAST_DEFAULT_AUTH_ID = 'admin@pbs' as AuthId;

type Env = Readonly<Record<string, string | undefined>>;

export function repositoryFrom(flag: string | undefined, env: Env): Repository {
  const text = flag ?? env['HOLDFAST_REPOSITORY'] ?? env['PBS_REPOSITORY'];
  if (!text) throw fail('INVALID_REPOSITORY', 'no repository: pass --repository [[USER@REALM[!TOKEN]]@]HOST[:PORT]:STORE or set HOLDFAST_REPOSITORY', {});
  return parseRepository(text);
}

export async function connect(repo: Repository, env: Env, fingerprint?: string, tickets: TicketCache = TicketCache.fromEnv(env)): Promise<{ client: HttpClient; authId: AuthId }> {
  const authId = repo.authId ?? HOLDFAST_DEFAULT_AUTH_ID;
  const secret = env['HOLDFAST_PASSWORD'] ?? env['PBS_PASSWORD'];
  if (secret === undefined) throw fail('UNAUTHENTICATED', `no password for ${authId}: set HOLDFAST_PASSWORD (the token secret for an API token)`, { authId });
  const fp = fingerprint ?? env['HOLDFAST_FINGERPRINT'] ?? env['PBS_FINGERPRINT'];
  const isToken = authIdParts(authId).tokenName !== undefined;
  const client = new HttpClient({
    host: repositoryHost(repo),
    port: repositoryPort(repo),
    ...(fp ? { fingerprint: fp } : {}),
    ...(isToken ? { token: { tokenid: authId, secret } } : {}),
  });
  if (!isToken) await login(client, tickets, { server: `${repositoryHost(repo)}:${repositoryPort(repo)}|${fp ?? ''}`, authId, secret });
  return { client, authId };
}

/** Renews a cached ticket when there is one for this server, user and secret; else logs in with the secret. */
async function login(client: HttpClient, tickets: TicketCache, scope: TicketScope): Promise<void> {
  const cached = tickets.get(scope);
  traceMark('connect: ticket cache read');
  if (cached) {
    try {
      await client.login(scope.authId, cached.ticket);
    } catch (e) {
      if (!isHoldfastError(e, 'UNAUTHENTICATED')) throw e;
      tickets.drop(scope);
    }
  }
  if (!client.ticket) await client.login(scope.authId, scope.secret);
  if (client.ticket) tickets.put(scope, client.ticket);
}
