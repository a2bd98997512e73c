import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * The Chromium the browser tests drive: $CHROMIUM_PATH, else the first of chromium,
 * chromium-browser, google-chrome, google-chrome-stable on $PATH (Debian's package installs
 * `chromium`; CI installs it with `apt-get install -y chromium`). Throws with the install command
 * when there is none, so a missing browser fails loudly instead of skipping the test.
 */
export function chromiumPath(): string {
  const explicit = process.env.CHROMIUM_PATH;
  if (explicit) return explicit;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
      const candidate = path.join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here; keep looking
      }
    }
  }
  throw new Error(
    'no Chromium found: install it (apt-get install -y chromium) or set CHROMIUM_PATH',
  );
}

/** Flags for a headless, offline, quiet browser (as root in a container: no sandbox). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
