#!/usr/bin/env node
'use strict';
// Runs the Cedar benchmarks side by side, in the same run: bench_cedar (Arbiter's engine, Google
// Benchmark) and peer.js (cedar-wasm statefulIsAuthorized) on the same workload files, then prints
// the figures and the ratios as a Markdown table. It also checks that both engines allow the same
// number of requests on each workload, so that the two are measured doing the same work.
//
//   node bench/cedar/compare.js --bench build/diff-rel/bench/cedar/bench_cedar \
//       --npm-dir build/diff-rel/npm-cedar --workloads build/diff-rel/cedar-workloads \
//       [--repetitions 5] [--peer-seconds 1]
//
// Exit status: 0, or 1 when a step fails or the allowed counts differ.

const fs = require('fs');
const path = require('path');
const childProcess = require('child_process');

function ParseArgs(argv) {
  const args = {bench: null, npmDir: null, workloads: null, repetitions: 5, peerSeconds: 1, minTime: 0.5};
  for (let i = 2; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => argv[++i];
    if (a === '--bench') args.bench = value();
    else if (a === '--npm-dir') args.npmDir = value();
    else if (a === '--workloads') args.workloads = value();
    else if (a === '--repetitions') args.repetitions = Number(value());
    else if (a === '--peer-seconds') args.peerSeconds = Number(value());
    else if (a === '--min-time') args.minTime = Number(value());
    else Die(`unknown argument \`${a}\``);
  }
  if (!args.bench) Die('--bench PATH is required');
  const build = path.resolve(path.dirname(args.bench), '..', '..');
  args.npmDir = path.resolve(args.npmDir || path.join(build, 'npm-cedar'));
  args.workloads = path.resolve(args.workloads || path.join(build, 'cedar-workloads'));
  return args;
}

function Die(message) {
  process.stderr.write(`compare: ${message}\n`);
  process.exit(1);
}

function Run(argv, env) {
  const r = childProcess.spawnSync(argv[0], argv.slice(1), {encoding: 'utf8', env: Object.assign({}, process.env, env),
    maxBuffer: 64 * 1024 * 1024});
  if (r.status !== 0) Die(`\`${argv.join(' ')}\` failed (${r.status}): ${(r.stderr || '').trim().split('\n').pop()}`);
  return r.stdout;
}

function Median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

function Main() {
  const args = ParseArgs(process.argv);
  // 1. Workloads (deterministic files) and the peer package.
  Run(['node', path.join(__dirname, 'gen_workloads.js'), args.workloads]);
  if (!fs.existsSync(path.join(args.npmDir, 'node_modules', '@cedar-policy', 'cedar-wasm'))) {
    Run(['npm', 'install', '--no-audit', '--no-fund', '--prefix', args.npmDir, '@cedar-policy/cedar-wasm@4']);
  }
  // 2. Arbiter.
  const benchOut = path.join(args.workloads, 'bench_cedar.json');
  Run([args.bench, `--benchmark_repetitions=${args.repetitions}`, `--benchmark_min_time=${args.minTime}`,
    `--benchmark_out=${benchOut}`, '--benchmark_out_format=json'], {ARBITER_CEDAR_WORKLOADS: args.workloads});
  // Aggregates of constant counters come out as NaN, which JSON lacks.
  const benchJson = JSON.parse(fs.readFileSync(benchOut, 'utf8').replace(/: -?(NaN|nan|inf|Infinity)\b/g, ': null'));
  const ours = {};
  for (const b of benchJson.benchmarks) {
    if (b.run_type !== 'iteration') continue;  // take medians over the repetitions ourselves
    const [kind, name] = b.run_name.split('/');
    ours[name] = ours[name] || {ns: [], rps: [], rpsWall: [], rpsParsing: [], p50: [], p99: [], allowed: null, errors: null};
    const o = ours[name];
    if (kind === 'BM_Authorize') {
      const ns = b.real_time * (b.time_unit === 'us' ? 1e3 : b.time_unit === 'ms' ? 1e6 : 1);
      o.ns.push(ns);
      o.rpsWall.push(1e9 / ns);
      o.rps.push(b.items_per_second);  // per CPU second
      o.allowed = b.allowed;
      o.errors = b.policy_errors;
    } else if (kind === 'BM_AuthorizeParsingEntities') {
      o.rpsParsing.push(b.items_per_second);
    } else if (kind === 'BM_Latency') {
      o.p50.push(b.p50_ns);
      o.p99.push(b.p99_ns);
    }
  }
  // 3. cedar-wasm, right after, on the same files.
  const peer = JSON.parse(Run(['node', path.join(__dirname, 'peer.js'), '--npm-dir', args.npmDir,
    '--workloads', args.workloads, '--repetitions', String(args.repetitions), '--min-seconds',
    String(args.peerSeconds), '--json']));
  // 4. Report.
  const ctx = benchJson.context;
  console.log(`Machine: ${ctx.num_cpus} CPUs at ${ctx.mhz_per_cpu} MHz, load average ` +
    `${(ctx.load_avg || []).map((x) => x.toFixed(2)).join(' ')}; ${benchJson.context.date}`);
  console.log(`Arbiter: bench_cedar (${ctx.library_build_type} Google Benchmark library build), ` +
    `medians of ${args.repetitions} repetitions; peer: ${peer.peer} statefulIsAuthorized, medians of ` +
    `${args.repetitions}.\n`);
  console.log('| workload | Arbiter median | Arbiter p99 | Arbiter req/s (CPU) | Arbiter req/s (wall) | ' +
    'cedar-wasm median | cedar-wasm p99 | cedar-wasm req/s (CPU) | cedar-wasm req/s (wall) | ' +
    'throughput ratio (CPU) | throughput ratio (wall) | median latency ratio |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  let ok = true;
  const labels = {small: '(a) 10 policies, 5 entities', large: '(b) 100 policies, 1,000 entities',
    routing: '(c) routing, 30 policies'};
  const n = (x) => Math.round(x).toLocaleString('en');
  const us = (x) => `${(x / 1000).toFixed(x < 10000 ? 2 : x < 1e6 ? 1 : 0)} µs`;
  for (const name of ['small', 'large', 'routing']) {
    const o = ours[name];
    const p = peer.results[name];
    if (!o || !p) Die(`missing results for ${name}`);
    if (o.allowed !== p.allowed) {
      ok = false;
      process.stderr.write(`compare: ${name}: Arbiter allows ${o.allowed} requests, cedar-wasm ${p.allowed}\n`);
    }
    const rps = Median(o.rps);
    const rpsWall = Median(o.rpsWall);
    const p50 = Median(o.p50);
    const p99 = Median(o.p99);
    console.log(`| ${labels[name]} | ${us(p50)} | ${us(p99)} | ${n(rps)} | ${n(rpsWall)} | ` +
      `${us(p.p50_ns)} | ${us(p.p99_ns)} | ${n(p.rps_cpu)} | ${n(p.rps)} | ` +
      `${n(rps / p.rps_cpu)}× | ${n(rpsWall / p.rps)}× | ${n(p.p50_ns / p50)}× |`);
  }
  console.log('\nLike for like (Arbiter parsing the entities JSON on every call too, as cedar-wasm does), ' +
    'requests per CPU second: ' + ['small', 'large', 'routing'].map((name) => {
    const r = Median(ours[name].rpsParsing);
    return `${name} ${n(r)} (${n(r / peer.results[name].rps_cpu)}× cedar-wasm)`;
  }).join(', '));
  console.log('\nAllowed requests (both engines): ' + ['small', 'large', 'routing'].map((n) =>
    `${n} ${ours[n].allowed}/${peer.results[n].requests} vs ${peer.results[n].allowed}`).join(', '));
  process.exit(ok ? 0 : 1);
}

Main();
