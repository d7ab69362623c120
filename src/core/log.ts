/**
 * Logger: the minimal logging surface the lower layers need. The server binds it to task logs and
 * stderr; tests bind it to an array so they can assert that a repair was reported.
 */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined };

export function memoryLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info: ${m}`), warn: (m) => lines.push(`warn: ${m}`) };
}

export function stderrLogger(prefix = ''): Logger {
  return {
    info: (m) => process.stderr.write(`${prefix}${m}\n`),
    warn: (m) => process.stderr.write(`${prefix}warning: ${m}\n`),
  };
}
