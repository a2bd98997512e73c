/**
 * A thread of the parallel ratings scanner (parallel-scan.ts): parses the byte ranges it is sent
 * into shared memory, scatters parsed ranges into the shared indexes, sorts blocks of rows, and
 * mixes arrays for the fingerprint (parallel-index.ts, fingerprint.ts). It holds the file open
 * for its lifetime; any error is reported and the main thread falls back to the serial path,
 * which words the error.
 */
import { closeSync, openSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { mixWords } from '../fingerprint.js';
import { columnsOfBands, scatterRange, sortRowBlock } from '../parallel-index.js';
import { parseRange } from './scan-range.js';
import type { ScanReply, ScanRequest } from './parallel-scan.js';

if (parentPort === null) throw new Error('scan-worker must run in a worker thread');
const port = parentPort;
let fd = -1;

function answer(message: ScanRequest): unknown {
  switch (message.type) {
    case 'parse': {
      if (fd === -1) fd = openSync(message.file, 'r');
      const { start, end, endsFile } = message.range;
      return parseRange(fd, start, end, endsFile, message.layout);
    }
    case 'scatter':
      return scatterRange(message);
    case 'columns':
      return columnsOfBands(message);
    case 'sort':
      return sortRowBlock(message);
    case 'mix':
      return mixWords(new Int32Array(message.words.buffer, 0, message.words.length));
  }
}

port.on('message', (message: ScanRequest) => {
  try {
    port.postMessage({ type: 'done', value: answer(message) } satisfies ScanReply);
  } catch (error) {
    port.postMessage({ type: 'error', message: (error as Error).message } satisfies ScanReply);
  }
});

port.on('close', () => {
  if (fd !== -1) closeSync(fd);
});
