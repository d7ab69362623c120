/**
 * A QR code as terminal text, for `key paperkey`: two module rows per text line with the Unicode
 * half blocks (▀ ▄ █ and space), dark modules drawn as ink, with a quiet zone of four modules as
 * the QR standard asks. Error correction level M, as PBS's paper keys use; the version is the
 * smallest that holds the data. Encoding is qrcode-generator's (the format is not ours to write).
 */
import qrcode from 'qrcode-generator';

const QUIET = 4;

/** The dark/light module matrix of `data` (byte mode), quiet zone included. */
export function qrMatrix(data: string): boolean[][] {
  const qr = qrcode(0, 'M');
  qr.addData(data, 'Byte');
  qr.make();
  const n = qr.getModuleCount();
  const size = n + 2 * QUIET;
  return Array.from({ length: size }, (_, r) =>
    Array.from({ length: size }, (_, c) => {
      const [y, x] = [r - QUIET, c - QUIET];
      return y >= 0 && y < n && x >= 0 && x < n && qr.isDark(y, x);
    }),
  );
}

/** The matrix as text: each line covers two module rows (upper half, lower half). */
export function qrText(data: string): string {
  const m = qrMatrix(data);
  const lines: string[] = [];
  for (let r = 0; r < m.length; r += 2) {
    const top = m[r]!;
    const bottom = m[r + 1] ?? top.map(() => false);
    lines.push(top.map((t, c) => (t ? (bottom[c] ? '█' : '▀') : bottom[c] ? '▄' : ' ')).join(''));
  }
  return lines.join('\n');
}
