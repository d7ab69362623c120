/**
 * SipHash-2-4 with 64-bit output, computed on 32-bit halves so that hashing every file name of a
 * large tree stays cheap (BigInt arithmetic is an order of magnitude slower). The pxar key is
 * fixed (pxar-format.md §2.1); the generic form exists for the SipHash paper's test vector.
 */

/** A 128-bit SipHash key as its two little-endian u64 halves. */
export interface SipKey {
  readonly k0: bigint;
  readonly k1: bigint;
}

/** `k0`/`k1` = the first two 16-hex-digit groups of SHA1("PROXMOX ARCHIVE FORMAT"). */
export const PXAR_HASH_KEY: SipKey = { k0: 0x83ac3f1cfbb450dbn, k1: 0xaa4f1b6879369fbdn };

// The four state words, each as (lo, hi) 32-bit halves; module-level so the rounds stay inlined.
let v0l = 0, v0h = 0, v1l = 0, v1h = 0, v2l = 0, v2h = 0, v3l = 0, v3h = 0;

function sipRounds(count: number): void {
  for (let i = 0; i < count; i++) {
    // v0 += v1; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)
    let lo = v0l + v1l;
    v0h = (v0h + v1h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    v0l = lo >>> 0;
    let t = ((v1l << 13) | (v1h >>> 19)) >>> 0;
    v1h = (((v1h << 13) | (v1l >>> 19)) ^ v0h) >>> 0;
    v1l = (t ^ v0l) >>> 0;
    t = v0l; v0l = v0h; v0h = t;
    // v2 += v3; v3 = rotl(v3, 16) ^ v2
    lo = v2l + v3l;
    v2h = (v2h + v3h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    v2l = lo >>> 0;
    t = ((v3l << 16) | (v3h >>> 16)) >>> 0;
    v3h = (((v3h << 16) | (v3l >>> 16)) ^ v2h) >>> 0;
    v3l = (t ^ v2l) >>> 0;
    // v0 += v3; v3 = rotl(v3, 21) ^ v0
    lo = v0l + v3l;
    v0h = (v0h + v3h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    v0l = lo >>> 0;
    t = ((v3l << 21) | (v3h >>> 11)) >>> 0;
    v3h = (((v3h << 21) | (v3l >>> 11)) ^ v0h) >>> 0;
    v3l = (t ^ v0l) >>> 0;
    // v2 += v1; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32)
    lo = v2l + v1l;
    v2h = (v2h + v1h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    v2l = lo >>> 0;
    t = ((v1l << 17) | (v1h >>> 15)) >>> 0;
    v1h = (((v1h << 17) | (v1l >>> 15)) ^ v2h) >>> 0;
    v1l = (t ^ v2l) >>> 0;
    t = v2l; v2l = v2h; v2h = t;
  }
}

function absorb(ml: number, mh: number): void {
  v3l = (v3l ^ ml) >>> 0;
  v3h = (v3h ^ mh) >>> 0;
  sipRounds(2);
  v0l = (v0l ^ ml) >>> 0;
  v0h = (v0h ^ mh) >>> 0;
}

function readWord(msg: Uint8Array, at: number, count: number): number {
  let w = 0;
  for (let i = count - 1; i >= 0; i--) w = (w << 8) | (msg[at + i] ?? 0);
  return w >>> 0;
}

function lo32(v: bigint): number {
  return Number(v & 0xffffffffn);
}

function hi32(v: bigint): number {
  return Number((v >> 32n) & 0xffffffffn);
}

/** SipHash-2-4 of `msg` under `key`, as an unsigned 64-bit bigint. */
export function sipHash24(key: SipKey, msg: Uint8Array): bigint {
  const k0l = lo32(key.k0), k0h = hi32(key.k0), k1l = lo32(key.k1), k1h = hi32(key.k1);
  v0l = (k0l ^ 0x70736575) >>> 0; v0h = (k0h ^ 0x736f6d65) >>> 0;
  v1l = (k1l ^ 0x6e646f6d) >>> 0; v1h = (k1h ^ 0x646f7261) >>> 0;
  v2l = (k0l ^ 0x6e657261) >>> 0; v2h = (k0h ^ 0x6c796765) >>> 0;
  v3l = (k1l ^ 0x79746573) >>> 0; v3h = (k1h ^ 0x74656462) >>> 0;
  const full = msg.length - (msg.length % 8);
  for (let at = 0; at < full; at += 8) absorb(readWord(msg, at, 4), readWord(msg, at + 4, 4));
  const rest = msg.length - full;
  const lastLo = readWord(msg, full, Math.min(rest, 4));
  const lastHi = (readWord(msg, full + 4, Math.max(rest - 4, 0)) | ((msg.length & 0xff) << 24)) >>> 0;
  absorb(lastLo, lastHi);
  v2l = (v2l ^ 0xff) >>> 0;
  sipRounds(4);
  const outLo = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
  const outHi = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
  return (BigInt(outHi) << 32n) | BigInt(outLo);
}

/** The goodbye-table hash of a file name (raw name bytes, no NUL). */
export function pxarNameHash(name: Uint8Array): bigint {
  return sipHash24(PXAR_HASH_KEY, name);
}
