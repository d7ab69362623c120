/**
 * Phase timing of one process, for measuring fixed costs (start-up, connecting, the protocol's
 * round trips): with `HOLDFAST_TRACE_TIMING=1` in the environment each `traceMark(label)` writes
 * the milliseconds since the process started to stderr (`performance.now()` counts from the
 * process's start, so Node's own start-up is included). Off, a mark costs one boolean test. The
 * variable is read once, here, because marks sit in layers that receive no environment.
 */
const enabled = process.env['HOLDFAST_TRACE_TIMING'] === '1';

export function traceMark(label: string): void {
  if (enabled) process.stderr.write(`timing ${performance.now().toFixed(1).padStart(7)} ms ${label}\n`);
}
