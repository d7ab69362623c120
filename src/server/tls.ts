/**
 * The server's TLS certificate: `proxy.pem` and `proxy.key` in the config dir, as PBS names them.
 * On first start a self-signed certificate (EC P-256, SHA-256, SANs for localhost and this host)
 * is generated and written durably (key mode 0600). Existing files, e.g. a user's own certificate,
 * are used as they are, once the key is checked to be the certificate's. `holdfast cert update
 * --force` makes a new self-signed pair (key first, then certificate: a crash between leaves a
 * mismatch that the check names, never a server that starts with it); a running server takes new
 * files on SIGHUP (listen.ts), and keeps its pair when the new one is not valid.
 *
 * Clients pin the server by the SHA-256 fingerprint of the certificate's DER bytes, written as 32
 * lowercase hex pairs joined by `:` (VECTORS.md §5.3), e.g. `86:88:7c:…:36:f8`.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
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

/** What `holdfast cert info` shows of a certificate. */
export interface CertificateInfo {
  readonly fingerprint: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** subjectAltName as the certificate words it, e.g. `DNS:localhost, IP Address:127.0.0.1` */
  readonly san: string;
}

export function certificateInfo(certPem: string): CertificateInfo {
  const fingerprint = certificateFingerprint(certPem);
  const x = new X509Certificate(certPem);
  return { fingerprint, subject: x.subject.replace(/\n/g, ', '), issuer: x.issuer.replace(/\n/g, ', '), notBefore: x.validFrom, notAfter: x.validTo, san: x.subjectAltName ?? '' };
}

/**
 * The certificate and key as they are in the config dir now, checked to belong together: what a
 * running server reloads (SIGHUP). A missing, unparsable or mismatched pair is INVALID_CONFIG, so
 * the server keeps the pair it has.
 */
export async function readCertificate(configDir: string): Promise<TlsMaterial> {
  const config = new ConfigDir(configDir);
  const [cert, key] = [await config.read(CERT_FILE), await config.read(KEY_FILE)];
  if (cert === undefined || key === undefined) throw fail('INVALID_CONFIG', `${CERT_FILE} or ${KEY_FILE} is missing in ${configDir}`, { configDir });
  const fingerprint = certificateFingerprint(cert);
  checkKeyPair(cert, key, configDir);
  return { cert, key, fingerprint };
}

/** INVALID_CONFIG unless `key` is the private key of `cert` (a pair a crash cut in half, or a wrong file). */
function checkKeyPair(cert: string, key: string, configDir: string): void {
  let matches: boolean;
  try {
    matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch (e) {
    throw fail('INVALID_CONFIG', `${KEY_FILE} is not a valid PEM private key`, {}, e);
  }
  if (!matches) throw fail('INVALID_CONFIG', `${KEY_FILE} is not the key of the certificate in ${CERT_FILE} (in ${configDir}; holdfast cert update --force makes a new pair)`, { configDir });
}

/** Replaces the certificate with a new self-signed one (`holdfast cert update --force`); the key first, as on first start. */
export async function renewSelfSigned(configDir: string): Promise<TlsMaterial> {
  const config = new ConfigDir(configDir);
  await config.ensure();
  const fresh = await config.locked('proxy', async () => {
    const made = await generateSelfSigned();
    await config.write(KEY_FILE, made.key, SECRET_MODE);
    await config.write(CERT_FILE, made.cert, CONFIG_MODE);
    return made;
  });
  return { ...fresh, fingerprint: certificateFingerprint(fresh.cert) };
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
  const fingerprint = certificateFingerprint(cert);
  checkKeyPair(cert, key, configDir);
  return { cert, key, fingerprint };
}
