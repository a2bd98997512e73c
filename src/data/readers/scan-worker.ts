/**
 * A thread of the parallel ratings scanner (parallel-scan.ts): counts or parses the byte ranges
 * it is sent, writing parsed ratings straight into the shared output arrays. It holds the file
 * open for its lifetime; any I/O error is reported and the main thread falls back to the serial
 * scanner, which words the error.
 */
import { closeSync, openSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { countLinesInRange, parseRange } from './scan-range.js';
import type { ScanReply, ScanRequest } from './parallel-scan.js';

if (parentPort === null) throw new Error('scan-worker must run in a worker thread');
const port = parentPort;
let fd = -1;

port.on('message', (message: ScanRequest) => {
  try {
    if (fd === -1) fd = openSync(message.file, 'r');
    const { start, end, endsFile } = message.range;
    const value =
      message.type === 'count'
        ? countLinesInRange(fd, start, end, endsFile)
        : parseRange(
            fd,
            start,
            end,
            endsFile,
            message.layout,
            {
              users: new Int32Array(message.users),
              items: new Int32Array(message.items),
              values: new Float32Array(message.values),
              timestamps: message.timestamps === null ? null : new Int32Array(message.timestamps),
            },
            message.offset,
          );
    port.postMessage({ type: 'done', value } satisfies ScanReply);
  } catch (error) {
    port.postMessage({ type: 'error', message: (error as Error).message } satisfies ScanReply);
  }
});

port.on('close', () => {
  if (fd !== -1) closeSync(fd);
});
