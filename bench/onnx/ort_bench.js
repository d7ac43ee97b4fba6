// ONNX Runtime side of the engine benchmark: times one model with the same input, warm-up,
// iteration count and statistics as `aether-model bench`, and prints the same lines:
//   latency_us min=X median=X p99=X
//   throughput inferences_per_s=X batch=N
//   memory peak_rss_kb=N
//
//   node ort_bench.js MODEL [--input X.csv] [--batch N] [--iterations N]
//
// Input: by default the window aether-model bench uses (its LCG, seed 12345, values in [-1, 1),
// batch x W x 11 floats); --input takes one window from a CSV instead and repeats it per batch.
// Warm-up: max(10, iterations / 10) runs. median = sorted[floor(n / 2)],
// p99 = sorted[min(floor(0.99 n), n - 1)]; throughput = iterations x batch / total timed time.
// Peak RSS is the whole process's (getrusage), loading included.
//
// The runtime is the npm package onnxruntime-node, resolved from NODE_PATH or the working folder.
// One intra-op thread, all graph optimisations. Each timed iteration is one awaited
// session.run() (the only call the package offers), timed with process.hrtime.bigint().
'use strict';

const fs = require('fs');
const ort = require('onnxruntime-node');

const FEATURES = 11;
const USAGE = 'usage: ort_bench.js MODEL [--input X.csv] [--batch N] [--iterations N]';

function parseArgs(argv) {
  const args = { batch: 1, iterations: 1000, input: null, model: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--batch' || flag === '--iterations') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(`${flag}: expected a positive integer, got '${argv[i]}'`);
      }
      args[flag.slice(2)] = value;
    } else if (flag === '--input') {
      args.input = argv[++i];
      if (!args.input) throw new Error(USAGE);
    } else if (!args.model && !flag.startsWith('-')) {
      args.model = flag;
    } else {
      throw new Error(USAGE);
    }
  }
  if (!args.model) throw new Error(USAGE);
  return args;
}

// aether-model bench's window: a 32-bit LCG from seed 12345, (seed >> 8) & 0xffff scaled to
// [-1, 1), for batch x window x 11 floats in order.
function lcgInput(count) {
  const data = new Float32Array(count);
  let seed = 12345;
  for (let i = 0; i < count; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    data[i] = ((seed >>> 8) & 0xffff) / 32768 - 1;
  }
  return data;
}

// Rows of comma-separated numbers; a first line that is not numeric is a header and is skipped.
function readCsv(path) {
  const rows = [];
  fs.readFileSync(path, 'utf8').split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const values = line.split(',').map(Number);
    if (values.some(Number.isNaN)) {
      if (index === 0) return;
      throw new Error(`${path}:${index + 1}: not a number in '${line}'`);
    }
    rows.push(values);
  });
  return rows;
}


async function main() {
  const args = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(args.model, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const window = session.inputMetadata
    ? session.inputMetadata.find((m) => m.name === 'input')?.shape?.[1]
    : undefined;
  let data;
  let steps;
  if (args.input) {
    const rows = readCsv(args.input);
    steps = rows.length;
    if (rows.some((r) => r.length !== FEATURES)) throw new Error(`${args.input}: rows must have ${FEATURES} columns`);
    data = new Float32Array(args.batch * steps * FEATURES);
    for (let b = 0; b < args.batch; b++) {
      rows.forEach((row, t) => row.forEach((v, f) => { data[(b * steps + t) * FEATURES + f] = v; }));
    }
  } else {
    if (!Number.isInteger(window)) throw new Error(`${args.model}: input window not fixed; pass --input`);
    steps = window;
    data = lcgInput(args.batch * steps * FEATURES);
  }
  const feeds = { input: new ort.Tensor('float32', data, [args.batch, steps, FEATURES]) };

  const warmup = Math.max(10, Math.floor(args.iterations / 10));
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const samples = new Float64Array(args.iterations);
  let total = 0;
  for (let i = 0; i < args.iterations; i++) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    samples[i] = Number(process.hrtime.bigint() - start) / 1000;
    total += samples[i];
  }
  samples.sort();
  const n = samples.length;
  const p99 = samples[Math.min(Math.floor(n * 0.99), n - 1)];
  console.log(`latency_us min=${samples[0].toFixed(1)} median=${samples[Math.floor(n / 2)].toFixed(1)} p99=${p99.toFixed(1)}`);
  console.log(`throughput inferences_per_s=${(args.iterations * args.batch / (total / 1e6)).toFixed(0)} batch=${args.batch}`);
  console.log(`memory peak_rss_kb=${process.resourceUsage().maxRSS}`);
}

main().catch((err) => {
  console.error(`ort_bench: ${err.message}`);
  process.exit(1);
});
