// Runs one shared benchmark workload on aws-local-stepfunctions, the way
// bench/workloads.py runs it on this project: the same definition and input, the
// warm-up runs, repetitions and concurrency of manifest.json, timed from the first
// timed start to the last end, and the same output line.
//
// Usage: node bench/peer/run.mjs NAME [--workloads DIR]
// (bench/compare.py installs the package and runs this; see there.)
//
// task_echo: the manifest's task_handlers name the Task states whose handler echoes its
// input; they are overridden with the library's documented local handler
// (run options overrides.taskResourceLocalHandlers), so no Lambda is called.
//
// aws-local-stepfunctions 3.0.0 declares Node >= 22; on Node 20 the one thing it lacks is
// Promise.withResolvers (its Task state calls it), which is supplied below as the
// standard defines it. The Node version used is printed by bench/compare.py.

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StateMachine } from 'aws-local-stepfunctions';

if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const HERE = dirname(fileURLToPath(import.meta.url));
const HANDLERS = { echo: (input) => input };

function parseArgs(argv) {
  let folder = resolve(HERE, '..', 'workloads');
  const names = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--workloads') folder = resolve(argv[++i]);
    else names.push(argv[i]);
  }
  if (names.length !== 1) {
    console.error('usage: node bench/peer/run.mjs NAME [--workloads DIR]');
    process.exit(2);
  }
  return { name: names[0], folder };
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

async function main() {
  const { name, folder } = parseArgs(process.argv.slice(2));
  const manifest = readJson(join(folder, 'manifest.json'));
  const spec = manifest[name];
  if (spec === undefined) {
    console.error(`${name}: not in ${join(folder, 'manifest.json')}`);
    process.exit(2);
  }
  const definition = readJson(join(folder, `${name}.asl.json`));
  const input = readJson(join(folder, `${name}.input.json`));
  const taskResourceLocalHandlers = {};
  for (const [state, handler] of Object.entries(spec.task_handlers ?? {})) {
    taskResourceLocalHandlers[state] = HANDLERS[handler];
  }
  const options = { overrides: { taskResourceLocalHandlers } };
  const machine = new StateMachine(definition);
  const runOnce = () => machine.run(input, options).result;

  for (let i = 0; i < (spec.warmup ?? 0); i++) await runOnce();
  const count = spec.repetitions;
  const started = process.hrtime.bigint();
  if (spec.concurrent) {
    await Promise.all(Array.from({ length: count }, runOnce));
  } else {
    for (let i = 0; i < count; i++) await runOnce();
  }
  const wall = Number(process.hrtime.bigint() - started) / 1e9;

  const transitions = count * spec.transitions_per_exec;
  const rssMb = process.resourceUsage().maxRSS / 1024;
  const fixed = (value, digits, width) => value.toFixed(digits).padStart(width);
  console.log(
    `${name.padEnd(16)} ${fixed(wall, 3, 8)} s  ${fixed(count / wall, 0, 10)} exec/s  ` +
      `${fixed(transitions / wall, 0, 10)} transitions/s  peak RSS ${rssMb.toFixed(0)} MB`,
  );
}

main().catch((error) => {
  // An execution that fails rejects its result: report it as bench/workloads.py does.
  console.error(`${process.argv[2]}: execution failed: ${error?.name ?? ''} ${error?.message ?? error}`);
  process.exit(1);
});
