// Whether the compiled tree in `<root>/dist` may run instead of `<root>/src`: only when the build
// stamp is at least as new as every source file and directory. Directories count because a
// create, delete or rename changes their mtime, and `mv` keeps a file's own mtime.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function builtIsFresh(root) {
  let stamp;
  try {
    stamp = statSync(join(root, 'dist', '.build-stamp')).mtimeMs;
  } catch {
    return false;
  }
  const src = join(root, 'src');
  if (statSync(src).mtimeMs > stamp) return false;
  for (const name of readdirSync(src, { recursive: true })) {
    if (statSync(join(src, String(name))).mtimeMs > stamp) return false;
  }
  return true;
}
