/**
 * One member of a tar or zip download (tar-writer.ts, zip-writer.ts): a path relative to the
 * download's top, its kind, the stat fields both formats carry, and for a file its bytes.
 *
 * Contract for producers: `data` yields exactly `size` bytes, and is read to its end before the
 * next member is asked for (the writers stream; they never hold a file). A writer that sees
 * another length raises SIZE_MISMATCH, so a short archive never passes as a complete one.
 */
import { fail } from '../core/errors.ts';

export const MEMBER_KINDS = ['directory', 'file', 'symlink', 'hardlink', 'char-device', 'block-device', 'fifo'] as const;
export type MemberKind = (typeof MEMBER_KINDS)[number];

export interface ArchiveMember {
  readonly kind: MemberKind;
  /** Path bytes, components joined by "/", no leading or trailing "/". */
  readonly path: Uint8Array;
  /** Permission bits (and suid/sgid/sticky); the type bits are ignored. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  /** Files: the byte count `data` yields. */
  readonly size?: number;
  readonly data?: AsyncIterable<Uint8Array>;
  /** Symlinks: the link text; hardlinks: the path of the earlier member. */
  readonly target?: Uint8Array;
  readonly device?: { readonly major: number; readonly minor: number };
}

/** Passes a file's data on, counting; SIZE_MISMATCH unless it is exactly `member.size` bytes. */
export async function* checkedData(member: ArchiveMember, onPiece?: (piece: Uint8Array) => void): AsyncGenerator<Uint8Array> {
  const expected = member.size ?? 0;
  let seen = 0;
  for await (const piece of member.data ?? []) {
    seen += piece.length;
    if (seen > expected) break;
    onPiece?.(piece);
    yield piece;
  }
  if (seen !== expected) {
    throw fail('SIZE_MISMATCH', `member '${Buffer.from(member.path).toString()}' has ${seen > expected ? 'more' : 'fewer'} bytes than its size ${expected}`, { expected, seen });
  }
}
