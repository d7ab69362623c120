/**
 * Test support: locating the shared reference fixtures (`../shared` beside the project root).
 * Tests skip with `FIXTURE_SKIP` when the directory is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const VECTORS = fileURLToPath(new URL('../../../../shared/reference/vectors/', import.meta.url));

export function fixturePath(relative: string): string {
  return VECTORS + relative;
}

export const FIXTURE_SKIP: string | false = existsSync(VECTORS) ? false : 'needs ../shared/reference/vectors fixtures';

export function readFixture(relative: string): Uint8Array {
  return readFileSync(fixturePath(relative));
}
