/**
 * The server's TLS certificate: `proxy.pem` and `proxy.key` in the config dir, as PBS names them.
 * On first start a self-signed certificate (EC P-256, SHA-256, SANs for localhost and this host)
 * is generated and written durably (key mode 0600). Existing files, e.g. a user's own certificate,
 * are used as they are.
 *
 * Clients pin the server by the SHA-256 fingerprint of the certificate's DER bytes, written as 32
 * lowercase hex pairs joined by `:` (VECTORS.md §5.3), e.g. `86:88:7c:…:36:f8`.
 */
import { X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';
import { generate } from 'selfsigned';
import { fail } from '../core/errors.ts';
import { CONFIG_MODE, ConfigDir, SECRET_MODE } from './auth/config-dir.ts';

export const CERT_FILE = 'proxy.pem';
export const KEY_FILE = 'proxy.key';
const VALID_YEARS = 10;

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly fingerprint: string;
}

const FINGERPRINT = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){31}$/;

export function isValidFingerprint(text: string): boolean {
  return FINGERPRINT.test(text);
}

export function certificateFingerprint(certPem: string): string {
  try {
    return new X509Certificate(certPem).fingerprint256.toLowerCase();
  } catch (e) {
    throw fail('INVALID_CONFIG', `${CERT_FILE} is not a valid PEM certificate`, {}, e);
  }
}

async function generateSelfSigned(): Promise<{ cert: string; key: string }> {
  const host = hostname();
  const notBeforeDate = new Date();
  const notAfterDate = new Date(notBeforeDate);
  notAfterDate.setFullYear(notAfterDate.getFullYear() + VALID_YEARS);
  const pems = await generate([{ name: 'commonName', value: host }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: host },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** The certificate and key from the config dir, generating them on first use. */
export async function loadOrCreateCertificate(configDir: string): Promise<TlsMaterial> {
  const config = new ConfigDir(configDir);
  await config.ensure();
  const { cert, key } = await config.locked('proxy', async () => {
    const [cert, key] = [await config.read(CERT_FILE), await config.read(KEY_FILE)];
    if (cert !== undefined && key !== undefined) return { cert, key };
    if (cert !== undefined || key !== undefined) {
      throw fail('INVALID_CONFIG', `only one of ${CERT_FILE} and ${KEY_FILE} exists in ${configDir}`, { configDir });
    }
    const fresh = await generateSelfSigned();
    await config.write(KEY_FILE, fresh.key, SECRET_MODE);
    await config.write(CERT_FILE, fresh.cert, CONFIG_MODE);
    return fresh;
  });
  return { cert, key, fingerprint: certificateFingerprint(cert) };
}
