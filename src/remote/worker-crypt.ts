/**
 * The CryptConfig of a key that a worker thread receives as hex with each job (a CryptConfig
 * holds a KeyObject and cannot be posted), built once per key: deriving its id key is a PBKDF2.
 * For the chunk encoder and decoder workers.
 */
import { CryptConfig } from '../format/crypt-config.ts';

const configs = new Map<string, CryptConfig>();

export function cryptForKey(keyHex: string | undefined): CryptConfig | undefined {
  if (keyHex === undefined || keyHex === '') return undefined;
  let crypt = configs.get(keyHex);
  if (!crypt) configs.set(keyHex, (crypt = new CryptConfig(Buffer.from(keyHex, 'hex'))));
  return crypt;
}
