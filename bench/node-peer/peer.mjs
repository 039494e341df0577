// Times ONNX models with onnxruntime-node, the peer EdgeOpt's own ORT binding is compared with.
// Usage: node peer.mjs --model M.onnx [--model …] --threads N --warmup W --runs R [--shape name=1x3x224x224 …]
// Prints one JSON array: per model the session load time and per-Run latencies (ms) over R timed runs on one
// seeded random input, created once (as the C# side does), so both measure Run alone.
import * as ort from 'onnxruntime-node';

function parseArgs(argv) {
  const args = { models: [], threads: 1, warmup: 20, runs: 200, shapes: {} };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`missing value after ${key}`);
    switch (key) {
      case '--model': args.models.push(value); break;
      case '--threads': args.threads = Number(value); break;
      case '--warmup': args.warmup = Number(value); break;
      case '--runs': args.runs = Number(value); break;
      case '--shape': { const [n, d] = value.split('='); args.shapes[n] = d.split('x').map(Number); break; }
      default: throw new Error(`unknown option ${key}`);
    }
  }
  if (args.models.length === 0) throw new Error('pass at least one --model');
  return args;
}

// Mulberry32: a small seeded generator, so inputs are the same on every run.
function random(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeInput(name, meta, shapes, next) {
  const dims = shapes[name] ?? meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const size = dims.reduce((a, b) => a * b, 1);
  switch (meta.type) {
    case 'float32': return new ort.Tensor('float32', Float32Array.from({ length: size }, () => next() * 2 - 1), dims);
    case 'int64': return new ort.Tensor('int64', BigInt64Array.from({ length: size }, () => BigInt(Math.floor(next() * 10))), dims);
    case 'int32': return new ort.Tensor('int32', Int32Array.from({ length: size }, () => Math.floor(next() * 10)), dims);
    default: throw new Error(`input ${name}: type ${meta.type} not covered by the peer`);
  }
}

async function timeModel(path, args) {
  const options = {
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  };
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(path, options);
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const next = random(1);
  const feeds = {};
  for (const name of session.inputNames) {
    const meta = session.inputMetadata.find((m) => m.name === name) ?? { type: 'float32', shape: args.shapes[name] };
    feeds[name] = makeInput(name, meta, args.shapes, next);
  }
  for (let i = 0; i < args.warmup; i++) await session.run(feeds);
  const latencies = [];
  for (let i = 0; i < args.runs; i++) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  await session.release();
  return { model: path, ortVersion: ort.env.versions.common, threads: args.threads, sessionLoadMs: loadMs, latenciesMs: latencies };
}

const args = parseArgs(process.argv.slice(2));
const results = [];
for (const model of args.models) results.push(await timeModel(model, args));
process.stdout.write(JSON.stringify(results) + '\n');
