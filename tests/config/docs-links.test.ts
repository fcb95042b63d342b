/**
 * The docs are a map (README.md → docs/ → code): every relative link in the README, docs/ and the
 * folders' READMEs leads to a file that exists and, when it names a heading, to that heading.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** GitHub's id for a heading: lower case, punctuation dropped, spaces as dashes. */
export function headingId(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function headingIds(markdown: string): Set<string> {
  const ids = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const match = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (match !== null) ids.add(headingId(match[1] ?? ''));
  }
  return ids;
}

/** Relative links of a Markdown file that lead nowhere, as `file: target`. */
export function brokenLinks(file: string, markdown: string, exists: (path: string) => boolean, read: (path: string) => string): string[] {
  const broken: string[] = [];
  const prose = markdown.replace(/```[\s\S]*?```/g, '');
  for (const match of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = match[1] ?? '';
    if (/^[a-z]+:/.test(target)) continue;
    const [path = '', anchor] = target.split('#');
    const resolved = path === '' ? file : join(dirname(file), path);
    if (!exists(resolved)) {
      broken.push(`${file}: ${target} (no such file)`);
    } else if (anchor !== undefined && resolved.endsWith('.md') && !headingIds(read(resolved)).has(anchor)) {
      broken.push(`${file}: ${target} (no such heading)`);
    }
  }
  return broken;
}

function markdownFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f));
  const readmes = ['functions', 'tests/abuse', 'bench', 'tools'].map((dir) => join(dir, 'README.md'))
    .filter((f) => existsSync(join(ROOT, f)));
  return ['README.md', ...docs, ...readmes];
}

describe('the docs', () => {
  it('link only to files and headings that exist', () => {
    const broken = markdownFiles().flatMap((file) => brokenLinks(file, readFileSync(join(ROOT, file), 'utf8'),
      (path) => existsSync(join(ROOT, path)), (path) => readFileSync(join(ROOT, path), 'utf8')));
    expect(broken).toEqual([]);
  });

  it('map every capability document from the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const unmapped = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md') && !readme.includes(`](docs/${f})`));
    expect(unmapped.map((f) => relative(ROOT, join(ROOT, 'docs', f)))).toEqual([]);
  });

  it('catches a link to a missing file or heading (the check itself)', () => {
    const files: Record<string, string> = { 'docs/a.md': '# A\n\n## Running it\n', 'README.md': '' };
    const exists = (path: string): boolean => path in files;
    const read = (path: string): string => files[path] ?? '';
    expect(brokenLinks('README.md', '[a](docs/a.md#running-it) [b](docs/b.md) [c](docs/a.md#nowhere) [web](https://x.y)\n```\n[no](code.md)\n```',
      exists, read)).toEqual(['README.md: docs/b.md (no such file)', 'README.md: docs/a.md#nowhere (no such heading)']);
    expect(headingId('The e2e suite (`tests/e2e/`) against any project')).toBe('the-e2e-suite-testse2e-against-any-project');
  });
});
