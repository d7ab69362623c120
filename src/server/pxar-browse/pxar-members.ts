/**
 * pxar events → download members (format/archive-member.ts): paths re-rooted so that the
 * downloaded folder's own name is the top (`etc/ssl` downloads as `ssl/…`; an archive's root
 * as the archive's base name), and each file's bytes handed out as the member's `data`.
 *
 * The events are one stream, so a file's `data` reads on in that stream and puts back the first
 * event that is not data; a consumer that skips a file's data has it drained before the next
 * member. Hardlinks whose target lies outside the downloaded folder are left out (there is no
 * earlier member to link to); sockets have no tar or zip form.
 */
import type { ArchiveMember } from '../../format/archive-member.ts';
import type { PxarEntry, PxarEvent } from '../../format/pxar/entry.ts';
import { hardlinkTargetPath, isWithin } from '../../format/pxar/selection.ts';

type Base = Omit<ArchiveMember, 'kind' | 'path'>;

function rerooted(path: Uint8Array, top: Uint8Array, name: Uint8Array): Uint8Array {
  if (top.length > 0) return Buffer.concat([name, path.subarray(top.length)]);
  return path.length === 0 ? name : Buffer.concat([name, Buffer.from('/'), path]);
}

function stat(e: Exclude<PxarEntry, { kind: 'hardlink' }>): Base {
  const s = e.metadata.stat;
  return { mode: s.mode, uid: s.uid, gid: s.gid, mtime: Number(s.mtime.secs) };
}

async function drain(data: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const piece of data) void piece;
}

export async function* pxarMembers(events: AsyncIterable<PxarEvent>, top: Uint8Array, topName: Uint8Array): AsyncGenerator<ArchiveMember> {
  const it = events[Symbol.asyncIterator]();
  let pending: PxarEvent | undefined;
  const next = async (): Promise<PxarEvent | undefined> => {
    if (pending !== undefined) {
      const p = pending;
      pending = undefined;
      return p;
    }
    const r = await it.next();
    return r.done === true ? undefined : r.value;
  };
  async function* fileData(): AsyncGenerator<Uint8Array> {
    for (let ev = await next(); ev !== undefined; ev = await next()) {
      if (ev.type !== 'data') {
        pending = ev;
        return;
      }
      yield ev.bytes;
    }
  }
  try {
    for (let ev = await next(); ev !== undefined; ev = await next()) {
      if (ev.type !== 'entry') continue;
      const e = ev.entry;
      const path = rerooted(e.path, top, topName);
      if (e.kind === 'hardlink') {
        const target = hardlinkTargetPath(e);
        if (isWithin(target, top)) yield { kind: 'hardlink', path, mode: 0, uid: 0, gid: 0, mtime: 0, target: rerooted(target, top, topName) };
        continue;
      }
      if (e.kind === 'socket') continue;
      const base = stat(e);
      if (e.kind === 'file') {
        const data = fileData();
        yield { kind: 'file', path, ...base, size: e.size, data };
        await drain(data); // what the consumer left of the file's bytes
      } else if (e.kind === 'symlink') yield { kind: 'symlink', path, ...base, target: e.target };
      else if (e.kind === 'char-device' || e.kind === 'block-device') yield { kind: e.kind, path, ...base, device: { major: Number(e.device.major), minor: Number(e.device.minor) } };
      else yield { kind: e.kind, path, ...base };
    }
  } finally {
    await it.return?.();
  }
}
