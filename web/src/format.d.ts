// Types of format.js, the web UI's pure helpers, for the TypeScript tests that import them (the UI
// itself is plain JavaScript). Kept beside the module so a changed signature is seen in review.
export declare const seg: (s: unknown) => string;
export declare function size(n: number): string;
export declare const iso: (t: unknown) => string;
export declare const snapshotId: (s: { 'backup-type': string; 'backup-id': string; 'backup-time': number }) => string;
export declare function parseTuning(text: string | undefined): Map<string, string>;
export declare const formatTuning: (m: ReadonlyMap<string, string>) => string;
export declare function withTuning(text: string | undefined, key: string, value: string): string;
export declare function datastoreCreateParams(f: Readonly<Record<string, unknown>>): Record<string, string | number>;
export declare const taskState: (t: { status?: string; exitstatus?: string }) => string;
export declare const isTaskOk: (status: unknown) => boolean;
export declare function chartGeometry(
  points: readonly ({ time: number } & Record<string, number>)[],
  field: string,
  from: number,
  to: number,
  w: number,
  h: number,
  gapSecs: number,
): { d: string; top: number; count: number; dots: [number, number][] };
export declare function parseQuotedList(text: string | undefined): string[];
export declare function lastTaskById<T extends { worker_id?: string | null; starttime: number }>(tasks: readonly T[]): Map<string, T>;
