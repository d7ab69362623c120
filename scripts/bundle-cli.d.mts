/** Bundles src/cli/main.ts into `outdir` (default dist/bundle); returns the files written. */
export function bundleCli(o?: {
  readonly root?: string;
  readonly outdir?: string;
  /** where the unbundled twin of each module lives (default dist/), for its `import.meta.url` */
  readonly twinRoot?: string;
  /** the twin's extension (default `.js`; `.ts` with twinRoot src/) */
  readonly twinExt?: string;
}): Promise<string[]>;
