/**
 * Interrupting the CLI as Unix tools are interrupted: a reader that goes away (`| head`), SIGINT,
 * SIGTERM (what `timeout`, `docker stop` and CI runners send), a second signal during the save,
 * and a second `als train` on the same checkpoint. Every case: no stack trace, the documented exit
 * code (141, 130, 143, 1), a whole checkpoint of the epoch the message names, no temp or lock file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/data/checkpoint.js';
import { movielensDir } from '../helpers/movielens.js';
import { als, alsBin } from './helpers.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'als-interrupts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const home = path.join(scratch, 'home');
let dirs = 0;
const fresh = (label: string): string => {
  const dir = path.join(scratch, `${label}-${dirs++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI; `whenStdout(text, child)` is called with everything read so far on stdout. */
function start(
  args: string[],
  whenStdout?: (text: string, child: ChildProcess) => void,
): { child: ChildProcess; ended: Promise<Ended> } {
  const child = spawn(process.execPath, [alsBin, ...args], {
    env: { ...process.env, ALS_DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    whenStdout?.(stdout, child);
  });
  child.stdout!.on('error', () => {});
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ended = new Promise<Ended>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, ended };
}

/** Nothing a user should not see: no stack, no Node error, no "internal error". */
function expectNoCrash(stderr: string): void {
  expect(stderr).not.toMatch(/EPIPE|internal error|^\s+at |node:|Error:/m);
}

const leftovers = (dir: string): string[] =>
  readdirSync(dir).filter((name) => /als-tmp|\.tmp|als-lock/.test(name));

const train = (out: string, epochs: number, extra: string[] = []): string[] => [
  'train',
  '--data',
  movielensDir('ml-100k'),
  '--data-home',
  home,
  '--dim',
  '8',
  '--epochs',
  String(epochs),
  '--kernel',
  'ts',
  '--threads',
  '1',
  '--out',
  out,
  ...extra,
];

/** The epoch the "saved the checkpoint of epoch N to <out>" line names. */
function savedEpoch(stderr: string, out: string): number {
  const match = new RegExp(
    `saved the checkpoint of epoch (\\d+) to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`,
  ).exec(stderr);
  expect(match, stderr).not.toBeNull();
  return Number(match![1]);
}

describe('a reader that goes away (broken pipe)', () => {
  it('als train | head -2: stops after the epoch in progress, saves it, says so on stderr, exits 141', async () => {
    const dir = fresh('pipe-train');
    const out = path.join(dir, 'm.als');
    // As `head -2`: read two lines, then close the pipe.
    const { ended } = start(train(out, 2000), (text, child) => {
      if (text.split('\n').length > 2) child.stdout!.destroy();
    });
    const r = await ended;
    expect(r.code, r.stderr).toBe(141);
    expectNoCrash(r.stderr);
    expect(r.stderr).toMatch(/^als: output closed: saved the checkpoint of epoch \d+ to /m);
    const epoch = savedEpoch(r.stderr, out);
    expect(epoch).toBeGreaterThanOrEqual(2);
    expect(epoch).toBeLessThan(2000);
    expect(readCheckpoint(out).epochsDone).toBe(epoch);
    expect(leftovers(dir)).toEqual([]);
  });

  it('the same through a real shell pipe: `als train … | head -2` prints two lines; als exits 141', async () => {
    const dir = fresh('shell-pipe');
    const out = path.join(dir, 'm.als');
    const command = `${[process.execPath, alsBin, ...train(out, 2000)].map((a) => `'${a}'`).join(' ')} | head -2; echo "status \${PIPESTATUS[0]}"`;
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      const child = spawn('bash', ['-c', command], { env: { ...process.env, ALS_DEBUG: '' } });
      let o = '';
      let e = '';
      child.stdout.on('data', (c: Buffer) => (o += c.toString()));
      child.stderr.on('data', (c: Buffer) => (e += c.toString()));
      child.on('close', () => resolve({ stdout: o, stderr: e }));
    });
    expect(stdout).toMatch(/^epoch 1 .*\nepoch 2 .*\nstatus 141\n$/);
    expectNoCrash(stderr);
    expect(readCheckpoint(out).epochsDone).toBe(savedEpoch(stderr, out));
  });

  it('recommend --user 1 --top 500 and stats --json into a closed pipe: nothing on stderr, exit 141', async () => {
    const dir = fresh('pipe-lists');
    const out = path.join(dir, 'm.als');
    expect(als(train(out, 2)).status).toBe(0);
    for (const args of [
      ['recommend', '--checkpoint', out, '--user', '1', '--top', '500'],
      ['stats', '--json', '--data', movielensDir('ml-100k'), '--data-home', home],
    ]) {
      // The reader is gone before the first write (as `head -1` that has read its line).
      const { child, ended } = start(args);
      child.stdout!.destroy();
      const r = await ended;
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(141);
      expect(r.stderr).toBe('');
    }
  });
});

describe('signals during a training run', () => {
  /** Starts a long training and calls `signal(child)` once `epoch <after>` has been printed. */
  function trainThenSignal(
    out: string,
    after: number,
    signal: (child: ChildProcess) => void,
    extra: string[] = [],
  ): Promise<Ended> {
    let sent = false;
    const { ended } = start(train(out, 5000, extra), (text, child) => {
      if (!sent && text.includes(`epoch ${after} `)) {
        sent = true;
        signal(child);
      }
    });
    return ended;
  }

  it('SIGTERM saves the last finished epoch at once and exits 143 (it used to die with nothing saved)', async () => {
    const dir = fresh('sigterm');
    const out = path.join(dir, 'm.als');
    const r = await trainThenSignal(out, 3, (child) => child.kill('SIGTERM'));
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(143);
    expectNoCrash(r.stderr);
    const epoch = savedEpoch(r.stderr, out);
    expect(epoch).toBeGreaterThanOrEqual(3);
    expect(readCheckpoint(out).epochsDone).toBe(epoch);
    expect(existsSync(`${out}.metrics.csv`)).toBe(true);
    expect(leftovers(dir)).toEqual([]);
  });

  it('SIGINT finishes the epoch in progress, saves it and exits 130', async () => {
    const dir = fresh('sigint');
    const out = path.join(dir, 'm.als');
    const r = await trainThenSignal(out, 2, (child) => child.kill('SIGINT'));
    expect(r.code, r.stderr).toBe(130);
    expectNoCrash(r.stderr);
    expect(r.stderr).toContain('interrupt: finishing the current epoch');
    const epoch = savedEpoch(r.stderr, out);
    expect(readCheckpoint(out).epochsDone).toBe(epoch);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a second signal during the save waits for the rename: one whole checkpoint, one line, no temp file', async () => {
    // A larger model (ml-latest-small, dim 64: a ~7 MB checkpoint) so that the save takes a while,
    // and the second signal sent right behind the first lands in it.
    for (const [first, second, code] of [
      ['SIGTERM', 'SIGTERM', 143],
      ['SIGINT', 'SIGINT', 130],
      ['SIGTERM', 'SIGINT', 143],
    ] as const) {
      const dir = fresh('double');
      const out = path.join(dir, 'm.als');
      const args = [
        'train',
        '--data',
        movielensDir('ml-latest-small'),
        '--data-home',
        home,
        '--dim',
        '64',
        '--epochs',
        '5000',
        '--threads',
        '1',
        '--out',
        out,
      ];
      let sent = false;
      const { ended } = start(args, (text, child) => {
        if (!sent && text.includes('epoch 1 ')) {
          sent = true;
          child.kill(first);
          // SIGINT once only asks to finish the epoch; a second one right away forces the save.
          setTimeout(() => child.kill(second), first === 'SIGINT' ? 0 : 2);
        }
      });
      const r = await ended;
      expect(r.signal, `${first}+${second}`).toBeNull();
      expect(r.code, `${first}+${second}: ${r.stderr}`).toBe(code);
      expectNoCrash(r.stderr);
      expect(r.stderr.match(/saved the checkpoint/g)).toHaveLength(1);
      const epoch = savedEpoch(r.stderr, out);
      expect(readCheckpoint(out).epochsDone).toBe(epoch);
      expect(leftovers(dir)).toEqual([]);
    }
  });
  it('a signal after the final checkpoint was written (while --report draws) exits at once without saving again', async () => {
    const dir = fresh('after-save');
    const out = path.join(dir, 'm.als');
    const { child, ended } = start(train(out, 2, ['--report']));
    // The report is drawn after the final checkpoint: signal as soon as the metrics are there.
    const poll = setInterval(() => {
      if (existsSync(`${out}.metrics.json`)) {
        clearInterval(poll);
        child.kill('SIGTERM');
      }
    }, 5);
    const r = await ended;
    clearInterval(poll);
    expectNoCrash(r.stderr);
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toMatch(
      new RegExp(
        `als: interrupted after the checkpoint of epoch 2 was saved to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n$`,
      ),
    );
    expect(r.stderr).not.toMatch(/saved the checkpoint/);
    expect(readCheckpoint(out).epochsDone).toBe(2);
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('two writers, one checkpoint', () => {
  it('a second `train --out same.als` is refused in one line while the first runs; the first is unharmed', async () => {
    const dir = fresh('lock');
    const out = path.join(dir, 'same.als');
    let second: ReturnType<typeof als> | null = null;
    const { ended } = start(train(out, 5000), (text, child) => {
      if (second === null && text.includes('epoch 2 ')) {
        second = als(train(out, 1));
        child.kill('SIGINT');
      }
    });
    const first = await ended;
    expect(second).not.toBeNull();
    const refused = second! as ReturnType<typeof als>;
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      new RegExp(
        `^als: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another als train \\(pid \\d+\\); wait for it to finish\\n$`,
      ),
    );
    expect(first.code, first.stderr).toBe(130);
    // The checkpoint is the first run's (epoch ≥ 2), not the refused one-epoch run's.
    expect(readCheckpoint(out).epochsDone).toBe(savedEpoch(first.stderr, out));
    expect(readCheckpoint(out).epochsDone).toBeGreaterThanOrEqual(2);
    expect(leftovers(dir)).toEqual([]);
  });

  it('the lock of a killed run (kill -9) is taken over by the next one', async () => {
    const dir = fresh('lock-stale');
    const out = path.join(dir, 'm.als');
    const { ended } = start(train(out, 5000), (text, child) => {
      if (text.includes('epoch 1 ')) child.kill('SIGKILL');
    });
    expect((await ended).signal).toBe('SIGKILL');
    expect(existsSync(`${out}.als-lock`)).toBe(true);
    const next = als(train(out, 1));
    expect(next.status, next.stderr).toBe(0);
    expect(leftovers(dir)).toEqual([]);
  });
});
