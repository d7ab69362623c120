/** Whether `<root>/dist` is at least as new as every file and directory in `<root>/src`. */
export function builtIsFresh(root: string): boolean;
