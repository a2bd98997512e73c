#!/usr/bin/env node
// The CLI runs compiled JavaScript (built by `npm run build`, which `npm ci` runs through `prepare`):
// no TypeScript loader at start-up, so `als recommend` starts fast.
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
