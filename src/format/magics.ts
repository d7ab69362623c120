/**
 * The 8-byte magics that open every PBS file format, written out as bytes.
 *
 * Each magic is the first 8 bytes of SHA-256 over an ASCII name (listed beside it); a test
 * recomputes them, so a typo here cannot survive. The arrays are shared: never write into them.
 */

export const MAGIC_BYTES = 8;

/** `Proxmox Backup uncompressed blob v1.0` */
export const UNCOMPRESSED_BLOB_MAGIC = Uint8Array.of(0x42, 0xab, 0x38, 0x07, 0xbe, 0x83, 0x70, 0xa1);
/** `Proxmox Backup zstd compressed blob v1.0` */
export const COMPRESSED_BLOB_MAGIC = Uint8Array.of(0x31, 0xb9, 0x58, 0x42, 0x6f, 0xb6, 0xa3, 0x7f);
/** `Proxmox Backup encrypted blob v1.0` */
export const ENCRYPTED_BLOB_MAGIC = Uint8Array.of(0x7b, 0x67, 0x85, 0xbe, 0x22, 0x2d, 0x4c, 0xf0);
/** `Proxmox Backup zstd compressed encrypted blob v1.0` */
export const ENCR_COMPR_BLOB_MAGIC = Uint8Array.of(0xe6, 0x59, 0x1b, 0xbf, 0x0b, 0xbf, 0xd8, 0x0b);
/** `Proxmox Backup fixed sized chunk index v1.0` */
export const FIXED_INDEX_MAGIC = Uint8Array.of(0x2f, 0x7f, 0x41, 0xed, 0x91, 0xfd, 0x0f, 0xcd);
/** `Proxmox Backup dynamic sized chunk index v1.0` */
export const DYNAMIC_INDEX_MAGIC = Uint8Array.of(0x1c, 0x91, 0x4e, 0xa5, 0x19, 0xba, 0xb3, 0xcd);
/** `Proxmox Backup Catalog file v1.0` */
export const CATALOG_MAGIC = Uint8Array.of(0x91, 0xfd, 0x60, 0xf9, 0xc4, 0x67, 0x58, 0xd5);

/**
 * All 32 bytes of SHA-256(`Proxmox Backup Encryption Key Fingerprint`): the prefix hashed with the
 * id key to give a key's fingerprint.
 */
export const FINGERPRINT_INPUT = Uint8Array.of(
  0x6e, 0xd0, 0xef, 0x77, 0x47, 0x1f, 0xff, 0x4d, 0x55, 0xc7, 0xa8, 0xfe, 0x4a, 0x9d, 0xb6, 0x21,
  0x61, 0x40, 0x7f, 0x13, 0x4c, 0x72, 0x5d, 0xdf, 0x30, 0x99, 0x2d, 0x25, 0xec, 0x45, 0xed, 0x26,
);

/** True when `bytes` starts with `magic`. */
export function hasMagic(bytes: Uint8Array, magic: Uint8Array): boolean {
  if (bytes.byteLength < magic.byteLength) return false;
  for (let i = 0; i < magic.byteLength; i++) if (bytes[i] !== magic[i]) return false;
  return true;
}
