/** Worker side of `pooledChunkEncoder`: blob encoding (compress, encrypt) of one chunk. */
import { CryptConfig } from '../format/crypt-config.ts';
import { encodeBlob } from '../format/blob.ts';

const configs = new Map<string, CryptConfig>();

export function handle(msg: { data: Uint8Array; keyHex?: string; compress: boolean }): { value: Uint8Array; transfer: ArrayBuffer[] } {
  let crypt: CryptConfig | undefined;
  if (msg.keyHex) {
    crypt = configs.get(msg.keyHex);
    if (!crypt) configs.set(msg.keyHex, (crypt = new CryptConfig(Buffer.from(msg.keyHex, 'hex'))));
  }
  const encoded = crypt ? encodeBlob(msg.data, { compress: msg.compress, crypt }) : encodeBlob(msg.data, { compress: msg.compress });
  const blob = encoded.byteOffset === 0 && encoded.byteLength === encoded.buffer.byteLength ? encoded : new Uint8Array(encoded);
  return { value: blob, transfer: [blob.buffer as ArrayBuffer] };
}
