/**
 * Which namespaces a remove-vanished run may remove: those on the receiving side that the job
 * covers (at and below its anchor, within max-depth) and that no source namespace maps to. Pure,
 * so the rules (as PBS: never the anchor itself, nothing above it or below max-depth, the deepest
 * first so that a namespace's children go before it) are tested without servers.
 */

/** Levels of `ns` below `anchor`; undefined when `ns` is not at or below it. */
export function depthBelow(ns: string, anchor: string): number | undefined {
  if (anchor === '') return ns === '' ? 0 : ns.split('/').length;
  if (ns === anchor) return 0;
  return ns.startsWith(`${anchor}/`) ? ns.slice(anchor.length + 1).split('/').length : undefined;
}

/**
 * The namespaces of `present` that the job covers and `synced` lacks, deepest first. `synced`
 * holds the receiving side's names of the namespaces the source has.
 */
export function vanishedNamespaces(present: readonly string[], synced: ReadonlySet<string>, anchor: string, maxDepth: number | undefined): string[] {
  const covered = present.filter((ns) => {
    const d = depthBelow(ns, anchor);
    return d !== undefined && d > 0 && (maxDepth === undefined || d <= maxDepth) && !synced.has(ns);
  });
  return covered.sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? -1 : a > b ? 1 : 0));
}
