#!/usr/bin/env node
'use strict';
// The peer for bench_cedar: cedar-wasm's statefulIsAuthorized (policy set and schema pre-parsed once)
// on the same workload files (gen_workloads.js). Entities and context are passed per call, which is
// how cedar-wasm's API takes them.
//
//   node bench/cedar/peer.js --npm-dir build/diff-rel/npm-cedar --workloads DIR [--repetitions 5]
//        [--min-seconds 1] [--json]
//
// For each workload and repetition it measures single-request latency (median and p99 over timed
// individual calls) and throughput (requests per second over the whole request list, repeated for at
// least --min-seconds), and prints a summary: medians across repetitions. It also prints how many
// requests are allowed, which must equal the C++ engine's count (the driver checks).

const fs = require('fs');
const path = require('path');

function ParseArgs(argv) {
  const args = {npmDir: null, workloads: null, repetitions: 5, minSeconds: 1, json: false,
    names: ['small', 'large', 'routing']};
  for (let i = 2; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => argv[++i];
    if (a === '--npm-dir') args.npmDir = value();
    else if (a === '--workloads') args.workloads = value();
    else if (a === '--repetitions') args.repetitions = Number(value());
    else if (a === '--min-seconds') args.minSeconds = Number(value());
    else if (a === '--only') args.names = value().split(',');
    else if (a === '--json') args.json = true;
    else {
      process.stderr.write(`peer: unknown argument \`${a}\`\n`);
      process.exit(1);
    }
  }
  if (!args.npmDir || !args.workloads) {
    process.stderr.write('peer: --npm-dir and --workloads are required\n');
    process.exit(1);
  }
  return args;
}

function Median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}
function Percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function Load(cedar, dir, name) {
  const schema = fs.readFileSync(path.join(dir, 'schema.cedarschema'), 'utf8');
  const policies = fs.readFileSync(path.join(dir, 'policies.cedar'), 'utf8');
  const entities = JSON.parse(fs.readFileSync(path.join(dir, 'entities.json'), 'utf8'));
  const requests = fs.readFileSync(path.join(dir, 'requests.jsonl'), 'utf8').split('\n')
    .filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
  const s = cedar.preparseSchema(name, schema);
  if (s.type !== 'success') throw new Error(`schema ${name}: ${JSON.stringify(s.errors)}`);
  const p = cedar.preparsePolicySet(name, {staticPolicies: policies});
  if (p.type !== 'success') throw new Error(`policies ${name}: ${JSON.stringify(p.errors)}`);
  const calls = requests.map((r) => ({principal: r.principal, action: r.action, resource: r.resource,
    context: r.context, entities, preparsedPolicySetId: name, preparsedSchemaName: name,
    validateRequest: false}));
  return calls;
}

function Authorize(cedar, call) {
  const answer = cedar.statefulIsAuthorized(call);
  if (answer.type !== 'success') throw new Error(`authorization failed: ${JSON.stringify(answer.errors)}`);
  return answer.response;
}

function Measure(cedar, calls, minSeconds) {
  // Latency: calls timed one by one, cycling through the requests, for up to 5,000 samples or
  // minSeconds, whichever comes first (at least 20 samples).
  const samples = [];
  const budget = BigInt(Math.round(minSeconds * 1e9));
  const begin = process.hrtime.bigint();
  for (let i = 0; i < 5000; ++i) {
    const call = calls[i % calls.length];
    const t0 = process.hrtime.bigint();
    Authorize(cedar, call);
    const t1 = process.hrtime.bigint();
    samples.push(Number(t1 - t0));
    if (i >= 20 && t1 - begin > budget) break;
  }
  samples.sort((a, b) => a - b);
  // Throughput: back-to-back calls for at least minSeconds (at least 20 calls).
  // Both wall-clock and process CPU time are recorded: the machine is shared, and CPU time is what
  // Google Benchmark's items_per_second uses on the C++ side.
  let done = 0;
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  let elapsed = 0;
  do {
    for (let k = 0; k < 10; ++k) Authorize(cedar, calls[(done + k) % calls.length]);
    done += 10;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  } while (elapsed < minSeconds || done < 20);
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {p50_ns: Percentile(samples, 0.5), p99_ns: Percentile(samples, 0.99), rps: done / elapsed,
    rps_cpu: done / cpuSeconds, samples: samples.length};
}

function Main() {
  const args = ParseArgs(process.argv);
  const cedar = require(path.resolve(args.npmDir, 'node_modules', '@cedar-policy', 'cedar-wasm', 'nodejs'));
  const results = {};
  for (const name of args.names) {
    const calls = Load(cedar, path.join(args.workloads, name), name);
    let allowed = 0;
    let errored = 0;
    for (const call of calls) {
      const r = Authorize(cedar, call);
      if (r.decision === 'allow') allowed++;
      errored += r.diagnostics.errors.length;
    }
    for (let i = 0; i < 2; ++i) for (const call of calls.slice(0, 32)) Authorize(cedar, call);  // warm-up
    const reps = [];
    for (let r = 0; r < args.repetitions; ++r) reps.push(Measure(cedar, calls, args.minSeconds));
    results[name] = {requests: calls.length, allowed, policy_errors: errored,
      p50_ns: Median(reps.map((x) => x.p50_ns)), p99_ns: Median(reps.map((x) => x.p99_ns)),
      rps: Median(reps.map((x) => x.rps)), rps_cpu: Median(reps.map((x) => x.rps_cpu)),
      repetitions: reps};
  }
  if (args.json) {
    console.log(JSON.stringify({peer: `cedar-wasm ${cedar.getCedarSDKVersion()}`, results}));
    return;
  }
  console.log(`cedar-wasm ${cedar.getCedarSDKVersion()} statefulIsAuthorized, medians of ${args.repetitions}`);
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name.padEnd(8)} median ${(r.p50_ns / 1000).toFixed(1)} us  p99 ${(r.p99_ns / 1000).toFixed(1)} us  ` +
      `${Math.round(r.rps)} req/s (wall), ${Math.round(r.rps_cpu)} req/s (CPU)  (${r.allowed}/${r.requests} allowed, ${r.policy_errors} policy errors)`);
  }
}

Main();
