/**
 * The front door: `npm start` and `npm test` come through here, so a fresh machine needs no step
 * before them. It installs what is missing, saying so as it goes, then runs the command:
 *
 *   1. Node: when the running Node's major line is older than .nvmrc's (engines: >=24), the
 *      .nvmrc release from the npm registry (the `node-linux-<arch>` package ships the official
 *      binary) into .rally/node, and everything below re-runs under it.
 *   2. The Debian packages in scripts/debian-packages.json: installed with apt-get when running as
 *      root on Debian; otherwise the exact command to run is printed and nothing else happens.
 *      On other systems this step is skipped (the scripts name what is missing when they need it).
 *   3. node_modules: `npm ci` when absent or not what package-lock.json says.
 *   4. The command, under this Node: `start` → scripts/stack.ts start, `test` → scripts/test.ts;
 *      signals are passed on, and its exit code is ours.
 *
 *   node scripts/bootstrap.mjs start|test [args…]
 *   node scripts/bootstrap.mjs setup        steps 1–3, then prints the Node bin directory to
 *                                           put first on PATH (what .ci/run does)
 *
 * Progress, and the output of apt-get and npm, goes to stderr: stdout stays the command's own.
 *
 * Plain JavaScript with no dependencies, runnable by older Node releases: it runs before
 * node_modules (and tsx) exist and before the right Node does.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE_DIR = join(ROOT, '.rally', 'node');
const COMMANDS = { start: ['scripts/stack.ts', 'start'], test: ['scripts/test.ts'] };
const USAGE = 'usage: node scripts/bootstrap.mjs start|test|setup [args…]';

const say = (line) => process.stderr.write(`setup: ${line}\n`);

class SetupError extends Error {}

/** Runs a step's command with its output on screen (stderr); a failure stops everything. */
function runStep(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: ['ignore', 2, 2], ...options });
  if (result.error !== undefined || result.status !== 0) {
    const why = result.error !== undefined ? result.error.message : `exit code ${result.status ?? result.signal}`;
    throw new SetupError(`${command} ${args.join(' ')} failed (${why})`);
  }
}

// 1. Node --------------------------------------------------------------------------------------

export function wantedNode() {
  const version = readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim().replace(/^v/, '');
  return { version, major: Number(version.split('.')[0]) };
}

/** The .nvmrc Node under .rally/node, installed from the npm registry when missing. */
function provisionedNode(wanted) {
  const platform = process.platform === 'darwin' ? 'darwin' : process.platform;
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if ((platform !== 'linux' && platform !== 'darwin') || arch === undefined) {
    throw new SetupError(`Node ${process.versions.node} is older than ${wanted.major}, and there is no node package for ` +
      `${process.platform}-${process.arch} to fetch: install Node ${wanted.version} (e.g. \`nvm install\`), then run this again.`);
  }
  const name = `node-${platform}-${arch}`;
  const binary = join(NODE_DIR, 'node_modules', name, 'bin', 'node');
  if (!existsSync(binary)) {
    say(`Node ${process.versions.node} is older than .nvmrc's ${wanted.major}; installing ${name}@${wanted.version} into .rally/node`);
    runStep('npm', ['install', '--prefix', NODE_DIR, '--no-save', '--no-audit', '--no-fund', '--no-package-lock',
      `${name}@${wanted.version}`]);
  }
  return binary;
}

// 2. Debian packages ---------------------------------------------------------------------------

/** The one list of Debian packages (name → why Rally needs it). */
export function debianPackages() {
  return Object.keys(JSON.parse(readFileSync(join(ROOT, 'scripts', 'debian-packages.json'), 'utf8')));
}

/** The listed packages dpkg does not report as installed. */
function missingPackages(packages) {
  const result = spawnSync('dpkg-query', ['-W', '-f', '${Package} ${Status}\\n', ...packages], { encoding: 'utf8' });
  const installed = new Set((result.stdout ?? '').split('\n')
    .filter((line) => line.endsWith(' install ok installed')).map((line) => line.split(' ')[0]));
  return packages.filter((name) => !installed.has(name));
}

const OTHER_SYSTEMS = '(A release without postgresql-15 of its own, such as Ubuntu 24.04: see "Other systems" in README.md.)';

function ensureDebianPackages() {
  if (process.platform !== 'linux' || !existsSync('/etc/debian_version')) return;
  const missing = missingPackages(debianPackages());
  if (missing.length === 0) {
    say('Debian packages: all present');
    return;
  }
  const install = ['install', '-y', '--no-install-recommends', ...missing];
  if (process.getuid?.() !== 0) {
    throw new SetupError(`missing Debian packages: ${missing.join(' ')}. Install them, then run this again:\n` +
      `  sudo apt-get update && sudo apt-get ${install.join(' ')}\n${OTHER_SYSTEMS}`);
  }
  say(`Debian packages: installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    runStep('apt-get', ['update'], { env });
    runStep('apt-get', install, { env });
  } catch (error) {
    throw new SetupError(`${error.message}\n${OTHER_SYSTEMS}`);
  }
}

// 3. node_modules ------------------------------------------------------------------------------

/**
 * 'absent', 'stale' or 'current': npm's own record of what it installed
 * (node_modules/.package-lock.json) against package-lock.json, package by package. Optional
 * packages for other platforms are never installed, so their absence is no difference.
 */
export function nodeModulesState(root = ROOT) {
  if (!existsSync(join(root, 'node_modules'))) return 'absent';
  const hiddenLock = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(hiddenLock)) return 'stale';
  const want = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages ?? {};
  const have = JSON.parse(readFileSync(hiddenLock, 'utf8')).packages ?? {};
  for (const [path, entry] of Object.entries(want)) {
    if (path === '') continue;
    const installed = have[path];
    if (installed === undefined ? entry.optional !== true : installed.version !== entry.version) return 'stale';
  }
  return Object.keys(have).some((path) => !(path in want)) ? 'stale' : 'current';
}

function ensureNodeModules() {
  const state = nodeModulesState();
  if (state === 'current') {
    say('node_modules: matches package-lock.json');
    return;
  }
  say(`node_modules: ${state === 'absent' ? 'not installed' : 'not what package-lock.json says'}; running npm ci`);
  runStep('npm', ['ci', '--no-audit', '--no-fund']);
}

// 4. the command -------------------------------------------------------------------------------

/** Runs `command args` to its end, passing signals on; resolves with the exit code to use. */
function runToEnd(command, args, env) {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', env });
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    // Ctrl-C reaches the child from the terminal too; it is written to take a signal twice.
    const pass = (signal) => child.kill(signal);
    for (const signal of signals) process.on(signal, pass);
    child.on('error', (error) => {
      say(`${command} could not be started: ${error.message}`);
      done(1);
    });
    child.on('exit', (code, signal) => {
      for (const s of signals) process.off(s, pass);
      done(code ?? 128 + ({ SIGINT: 2, SIGHUP: 1, SIGTERM: 15 }[signal] ?? 1));
    });
  });
}

async function main(argv) {
  const [command, ...args] = argv;
  if (command !== 'setup' && !(command in COMMANDS)) throw new SetupError(USAGE);
  const wanted = wantedNode();
  const running = Number(process.versions.node.split('.')[0]);
  if (running < wanted.major) {
    const node = provisionedNode(wanted);
    const path = `${dirname(node)}${process.platform === 'win32' ? ';' : ':'}${process.env.PATH ?? ''}`;
    return runToEnd(node, [fileURLToPath(import.meta.url), ...argv], { ...process.env, PATH: path });
  }
  say(`Node ${process.versions.node} (.nvmrc ${wanted.version})`);
  ensureDebianPackages();
  ensureNodeModules();
  if (command === 'setup') {
    process.stdout.write(`${dirname(process.execPath)}\n`);
    return 0;
  }
  const [script, ...fixed] = COMMANDS[command];
  return runToEnd(process.execPath, ['--import', 'tsx', script, ...fixed, ...args], process.env);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (error) => {
    if (!(error instanceof SetupError)) throw error;
    say(error.message);
    process.exit(1);
  });
}
