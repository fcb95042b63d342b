// Types for scripts/bootstrap.mjs (plain JavaScript, so it runs before node_modules and the
// right Node exist), for the tests that import it.
export function wantedNode(): { version: string; major: number };
export function debianPackages(): string[];
export function nodeModulesState(root?: string): 'absent' | 'stale' | 'current';
