/**
 * Kernel providers by name, as the CLI option `--kernel ts|wasm` and the worker threads name them.
 * The WebAssembly provider is imported lazily, only when asked for, so that the TypeScript path
 * never loads it (and builds without it).
 */
import { AlsError } from '../errors.js';
import type { KernelProvider } from './kernel.js';
import { tsKernel } from './kernel-ts.js';

export type KernelName = KernelProvider['name'];

export async function loadKernel(name: KernelName): Promise<KernelProvider> {
  if (name === 'ts') return tsKernel;
  if (name === 'wasm') {
    // A non-literal specifier keeps the compiler from requiring the module at build time.
    const specifier = './kernel-wasm.js';
    let module: { wasmKernel?: KernelProvider };
    try {
      module = (await import(specifier)) as { wasmKernel?: KernelProvider };
    } catch (error) {
      throw new Error(`the wasm kernel is not available: ${(error as Error).message}`);
    }
    if (module.wasmKernel === undefined)
      throw new Error('the wasm kernel module does not export wasmKernel');
    return module.wasmKernel;
  }
  throw new Error(`unknown kernel '${String(name)}'`);
}

/**
 * The kernel a run uses: the one asked for (a failure to load it is the user's one-line error), or
 * wasm when it loads and the TypeScript kernel otherwise (said through `note`).
 */
export async function chooseKernel(
  name: KernelName | undefined,
  note: (line: string) => void,
): Promise<KernelProvider> {
  if (name !== undefined) {
    try {
      return await loadKernel(name);
    } catch (error) {
      throw new AlsError(`--kernel ${name}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  try {
    return await loadKernel('wasm');
  } catch (error) {
    note(
      `wasm kernel unavailable (${(error as Error).message.split('\n')[0]}); using the TypeScript kernel`,
    );
    return loadKernel('ts');
  }
}
