/**
 * What to tell someone whose machine lacks a system package: the Debian command built from the
 * one list, scripts/debian-packages.json (which scripts/bootstrap.mjs installs itself when
 * `npm start` or `npm test` runs as root on Debian).
 */
import packages from '../debian-packages.json' with { type: 'json' };

export const DEBIAN_PACKAGES: readonly string[] = Object.keys(packages);

/** `Debian/Ubuntu: sudo apt-get install -y …` for the whole list (installing all of it is harmless). */
export function debianInstallHint(): string {
  return `  Debian/Ubuntu: sudo apt-get install -y ${DEBIAN_PACKAGES.join(' ')}\n` +
    '                 (as root on Debian, `npm start` and `npm test` install them themselves)';
}
