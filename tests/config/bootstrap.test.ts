/**
 * The front door (scripts/bootstrap.mjs, what `npm start`, `npm test` and .ci/run go through):
 * it runs `npm ci` exactly when node_modules is not what package-lock.json says, re-runs under
 * the .nvmrc Node when the running one is an older line, and installs the one list of Debian
 * packages.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { debianPackages, nodeModulesState, wantedNode } from '../../scripts/bootstrap.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A project with this lock file and, unless null, this record of what npm installed. */
function project(lock: Record<string, unknown>, installed: Record<string, unknown> | null): string {
  const dir = mkdtempSync(join(tmpdir(), 'rally-bootstrap-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages: lock }));
  if (installed !== null) {
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, 'node_modules', '.package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages: installed }));
  }
  return dir;
}

const LOCK = {
  '': { name: 'rally' },
  'node_modules/pg': { version: '8.23.1' },
  'node_modules/@esbuild/darwin-arm64': { version: '0.25.0', optional: true },
};

describe('scripts/bootstrap.mjs', () => {
  it('runs npm ci when node_modules is absent or differs from package-lock.json, and not otherwise', () => {
    expect(nodeModulesState(project(LOCK, null))).toBe('absent');
    expect(nodeModulesState(project(LOCK, { 'node_modules/pg': { version: '8.23.1' } }))).toBe('current');
    expect(nodeModulesState(project(LOCK, { 'node_modules/pg': { version: '8.20.0' } }))).toBe('stale');
    expect(nodeModulesState(project(LOCK, {}))).toBe('stale');
    expect(nodeModulesState(project(LOCK, { 'node_modules/pg': { version: '8.23.1' }, 'node_modules/left-pad': { version: '1.3.0' } })))
      .toBe('stale');
    const noRecord = project(LOCK, null);
    mkdirSync(join(noRecord, 'node_modules'));
    expect(nodeModulesState(noRecord)).toBe('stale');
  });

  it('finds this checkout\'s node_modules installed from its lock file', () => {
    expect(nodeModulesState(ROOT)).toBe('current');
  });

  it('wants the .nvmrc release, whose line is the engines line of package.json', () => {
    const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(wantedNode().version).toBe(readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim());
    expect(engines).toBe(`>=${wantedNode().major}`);
  });

  it('installs the one Debian list, which the README\'s manual steps name in full', () => {
    const packages = debianPackages();
    expect(packages).toContain('postgresql-15');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(packages.filter((name) => !readme.includes(name))).toEqual([]);
  });
});
