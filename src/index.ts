// The library entry point: what the CLI uses, importable as `import { … } from 'als'`.
export * from './errors.js';
export * from './data/types.js';
export * from './data/matrix.js';
export * from './data/home.js';
export * from './data/load.js';
export * from './core/types.js';
export * from './core/kernel.js';
export * from './core/arena.js';
export * from './core/random.js';
