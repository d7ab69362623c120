/**
 * Users and API tokens: `user.cfg` (section config, types `user` and `token`, as in PBS) and
 * `shadow.json` (mode 0600) with the scrypt hashes of passwords and token secrets, keyed by user
 * or token id. Both files change only under the `.user.lck` lock.
 *
 * Write order keeps a crash harmless: creating writes the hash before the config entry (an orphan
 * hash grants nothing); removing drops the config entry before the hash.
 *
 * Only realm `pbs` exists: users are created there, and only they have passwords.
 */
import { randomUUID } from 'node:crypto';
import { fail } from '../../core/errors.ts';
import { formatSectionConfig, parseSectionConfig, type Section } from '../../format/section-config.ts';
import { authIdParts, parseAuthId, parseUserid } from '../../core/names.ts';
import { tokenId } from './auth-id.ts';
import { SECRET_MODE, type ConfigDir } from './config-dir.ts';
import { burnVerifyTime, hashSecret, verifySecret } from './secret-hash.ts';

export const USER_CFG = 'user.cfg';
export const SHADOW_FILE = 'shadow.json';
export const PBS_REALM = 'pbs';
const LOCK = 'user';

export interface AccountInfo {
  readonly enable: boolean;
  /** Epoch seconds after which the account stops working; 0 = never. */
  readonly expire: number;
  readonly comment?: string;
}
export interface UserInfo extends AccountInfo {
  readonly userid: string;
}
export interface TokenInfo extends AccountInfo {
  readonly tokenid: string;
}
export interface AccountOptions {
  readonly comment?: string;
  readonly enable?: boolean;
  readonly expire?: number;
}

interface Shadow {
  users: Record<string, string>;
  tokens: Record<string, string>;
}

interface UserConfig {
  readonly users: Map<string, UserInfo>;
  readonly tokens: Map<string, TokenInfo>;
}

function accountFromSection(s: Section): AccountInfo {
  const enable = s.props.get('enable') ?? 'true';
  const comment = s.props.get('comment');
  const base = { enable: enable === 'true' || enable === '1', expire: Number(s.props.get('expire') ?? '0') || 0 };
  return comment === undefined ? base : { ...base, comment };
}

function sectionOf(type: 'user' | 'token', id: string, a: AccountInfo): Section {
  const props = new Map<string, string>([
    ['enable', String(a.enable)],
    ['expire', String(a.expire)],
  ]);
  if (a.comment !== undefined && a.comment !== '') props.set('comment', a.comment);
  return { type, id, props };
}

function account(options: AccountOptions): AccountInfo {
  const comment = options.comment?.trim();
  if (comment !== undefined && /[\r\n]/.test(comment)) throw fail('INVALID_ARGUMENT', 'comment must be one line', { param: 'comment' });
  const expire = options.expire ?? 0;
  if (!Number.isSafeInteger(expire) || expire < 0) throw fail('INVALID_ARGUMENT', 'expire must be an epoch ≥ 0', { param: 'expire', expire });
  const base = { enable: options.enable ?? true, expire };
  return comment === undefined || comment === '' ? base : { ...base, comment };
}

export function isActive(a: AccountInfo, nowSeconds: number): boolean {
  return a.enable && (a.expire === 0 || a.expire > nowSeconds);
}

function checkPbsRealm(userid: string): void {
  if (!userid.endsWith(`@${PBS_REALM}`)) {
    throw fail('INVALID_ARGUMENT', `only realm '${PBS_REALM}' is supported: '${userid}'`, { userid, param: 'userid' });
  }
}

export class UserStore {
  readonly #config: ConfigDir;

  constructor(config: ConfigDir) {
    this.#config = config;
  }

  async #load(): Promise<UserConfig> {
    const text = (await this.#config.read(USER_CFG)) ?? '';
    const users = new Map<string, UserInfo>();
    const tokens = new Map<string, TokenInfo>();
    for (const s of parseSectionConfig(text, USER_CFG)) {
      if (s.type === 'user') users.set(s.id, { userid: s.id, ...accountFromSection(s) });
      else if (s.type === 'token') tokens.set(s.id, { tokenid: s.id, ...accountFromSection(s) });
      else throw fail('INVALID_CONFIG', `${USER_CFG}: unknown section type '${s.type}'`, { type: s.type });
    }
    return { users, tokens };
  }

  async #save(cfg: UserConfig): Promise<void> {
    const sections = [
      ...[...cfg.users.values()].map((u) => sectionOf('user', u.userid, u)),
      ...[...cfg.tokens.values()].map((t) => sectionOf('token', t.tokenid, t)),
    ];
    await this.#config.write(USER_CFG, formatSectionConfig(sections));
  }

  async #loadShadow(): Promise<Shadow> {
    const text = await this.#config.read(SHADOW_FILE);
    if (text === undefined) return { users: {}, tokens: {} };
    try {
      const parsed = JSON.parse(text) as Partial<Shadow>;
      return { users: { ...parsed.users }, tokens: { ...parsed.tokens } };
    } catch (e) {
      throw fail('INVALID_CONFIG', `${SHADOW_FILE} is not valid JSON`, {}, e);
    }
  }

  async #saveShadow(shadow: Shadow): Promise<void> {
    await this.#config.write(SHADOW_FILE, `${JSON.stringify(shadow, null, 2)}\n`, SECRET_MODE);
  }

  /** True once `user.cfg` exists: the server has been set up. */
  async initialized(): Promise<boolean> {
    return this.#config.exists(USER_CFG);
  }

  async list(): Promise<UserInfo[]> {
    return [...(await this.#load()).users.values()].sort((a, b) => a.userid.localeCompare(b.userid));
  }

  async get(userid: string): Promise<UserInfo | undefined> {
    return (await this.#load()).users.get(userid);
  }

  async getToken(tokenid: string): Promise<TokenInfo | undefined> {
    return (await this.#load()).tokens.get(tokenid);
  }

  async listTokens(userid: string): Promise<TokenInfo[]> {
    const prefix = `${userid}!`;
    return [...(await this.#load()).tokens.values()].filter((t) => t.tokenid.startsWith(prefix));
  }

  async create(userid: string, options: AccountOptions & { readonly password?: string } = {}): Promise<void> {
    parseUserid(userid);
    checkPbsRealm(userid);
    const info = { userid, ...account(options) };
    await this.#config.locked(LOCK, async () => {
      const cfg = await this.#load();
      if (cfg.users.has(userid)) throw fail('ALREADY_EXISTS', `user '${userid}' exists already`, { userid });
      if (options.password !== undefined) await this.#storeHash('users', userid, options.password);
      cfg.users.set(userid, info);
      await this.#save(cfg);
    });
  }

  async remove(userid: string): Promise<void> {
    await this.#config.locked(LOCK, async () => {
      const cfg = await this.#load();
      if (!cfg.users.delete(userid)) throw fail('NOT_FOUND', `no user '${userid}'`, { userid });
      const tokens = [...cfg.tokens.keys()].filter((t) => t.startsWith(`${userid}!`));
      for (const t of tokens) cfg.tokens.delete(t);
      await this.#save(cfg);
      const shadow = await this.#loadShadow();
      delete shadow.users[userid];
      for (const t of tokens) delete shadow.tokens[t];
      await this.#saveShadow(shadow);
    });
  }

  async setPassword(userid: string, password: string): Promise<void> {
    await this.#config.locked(LOCK, async () => {
      const user = (await this.#load()).users.get(userid);
      if (!user) throw fail('NOT_FOUND', `no user '${userid}'`, { userid });
      await this.#storeHash('users', userid, password);
    });
  }

  async #storeHash(kind: keyof Shadow, id: string, secret: string): Promise<void> {
    if (secret.length < 5 || secret.length > 1024) {
      throw fail('INVALID_ARGUMENT', 'a password must have 5 to 1024 characters', { param: 'password' });
    }
    const shadow = await this.#loadShadow();
    shadow[kind][id] = await hashSecret(secret);
    await this.#saveShadow(shadow);
  }

  /** Creates token `<userid>!<name>` and returns its secret; the secret is never stored in clear. */
  async createToken(userid: string, name: string, options: AccountOptions = {}): Promise<{ tokenid: string; value: string }> {
    const tokenid = tokenId(userid, name);
    const info = { tokenid, ...account(options) };
    const secret = randomUUID();
    await this.#config.locked(LOCK, async () => {
      const cfg = await this.#load();
      if (!cfg.users.has(userid)) throw fail('NOT_FOUND', `no user '${userid}'`, { userid });
      if (cfg.tokens.has(tokenid)) throw fail('ALREADY_EXISTS', `token '${tokenid}' exists already`, { tokenid });
      const shadow = await this.#loadShadow();
      shadow.tokens[tokenid] = await hashSecret(secret);
      await this.#saveShadow(shadow);
      cfg.tokens.set(tokenid, info);
      await this.#save(cfg);
    });
    return { tokenid, value: secret };
  }

  async removeToken(tokenid: string): Promise<void> {
    await this.#config.locked(LOCK, async () => {
      const cfg = await this.#load();
      if (!cfg.tokens.delete(tokenid)) throw fail('NOT_FOUND', `no token '${tokenid}'`, { tokenid });
      await this.#save(cfg);
      const shadow = await this.#loadShadow();
      delete shadow.tokens[tokenid];
      await this.#saveShadow(shadow);
    });
  }

  /** True when the user exists, is enabled, has not expired and the password matches. */
  async verifyPassword(userid: string, password: string, nowSeconds: number): Promise<boolean> {
    const [user, shadow] = [await this.get(userid), await this.#loadShadow()];
    const hash = shadow.users[userid];
    if (!user || hash === undefined || !isActive(user, nowSeconds)) {
      await burnVerifyTime(password);
      return false;
    }
    return verifySecret(password, hash);
  }

  /** True when the token and its user are active and the secret matches. */
  async verifyToken(tokenid: string, secret: string, nowSeconds: number): Promise<boolean> {
    const userid = authIdParts(parseAuthId(tokenid)).user;
    const cfg = await this.#load();
    const user = cfg.users.get(userid);
    const token = cfg.tokens.get(tokenid);
    const hash = (await this.#loadShadow()).tokens[tokenid];
    if (!user || !token || hash === undefined || !isActive(user, nowSeconds) || !isActive(token, nowSeconds)) {
      await burnVerifyTime(secret);
      return false;
    }
    return verifySecret(secret, hash);
  }

  /** Whether an auth id (user, or token and its user) may act now. */
  async isActive(authId: string, nowSeconds: number): Promise<boolean> {
    const { user: userid, tokenName } = authIdParts(parseAuthId(authId));
    const cfg = await this.#load();
    const user = cfg.users.get(userid);
    if (!user || !isActive(user, nowSeconds)) return false;
    if (tokenName === undefined) return true;
    const token = cfg.tokens.get(authId);
    return token !== undefined && isActive(token, nowSeconds);
  }
}
