#!/usr/bin/env node
'use strict';
// Differential test: Arbiter's Cedar engine (`arbiter cedar authorize --requests`, batch mode) against
// the reference implementation, @cedar-policy/cedar-wasm, on seeded random policy sets, entities and
// requests (see gen.js). For every request it compares the decision, the set of determining policies
// and the set of erroring policies; every mismatch is printed with a minimal reproducer (the request
// and one policy that disagrees) written under --out.
//
//   node run.js --arbiter build/diff/src/arbiter/cli/arbiter --seed 20261127 --cases 2000 \
//       --requests-per-case 50 --npm-dir build/diff/npm-cedar --out build/diff/differential
//   node run.js --arbiter ... --replay tests/cedar/differential/findings   # replay saved reproducers
//
// Exit status: 0 when every request agrees, 1 on any mismatch, 2 on a setup failure.

const fs = require('fs');
const path = require('path');
const childProcess = require('child_process');
const {CaseSeed, GenerateCase} = require('./gen.js');

function ParseArgs(argv) {
  const args = {seed: 20261127, cases: 100, requestsPerCase: 50, maxReproducers: 25, replay: [],
    npmDir: null, arbiter: null, out: null, quiet: false};
  for (let i = 2; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) Fail(`missing value after \`${a}\``);
      return argv[++i];
    };
    if (a === '--arbiter') args.arbiter = value();
    else if (a === '--seed') args.seed = Number(value());
    else if (a === '--cases') args.cases = Number(value());
    else if (a === '--requests-per-case') args.requestsPerCase = Number(value());
    else if (a === '--npm-dir') args.npmDir = value();
    else if (a === '--out') args.out = value();
    else if (a === '--replay') args.replay.push(value());
    else if (a === '--max-reproducers') args.maxReproducers = Number(value());
    else if (a === '--reference-only') args.referenceOnly = true;
    else if (a === '--quiet') args.quiet = true;
    else if (a === '--install-only') args.installOnly = true;
    else Fail(`unknown argument \`${a}\``);
  }
  if (!args.arbiter && !args.referenceOnly && !args.installOnly) Fail('--arbiter PATH is required');
  if (!Number.isInteger(args.seed) || args.seed < 0 || args.seed > 0xffffffff) {
    Fail('--seed must be an integer in [0, 2^32)');
  }
  args.npmDir = path.resolve(args.npmDir || path.join('build', 'npm-cedar'));
  args.out = path.resolve(args.out || path.join(path.dirname(args.npmDir), 'differential'));
  return args;
}

function Fail(message) {
  process.stderr.write(`differential: ${message}\n`);
  process.exit(2);
}

// Installs @cedar-policy/cedar-wasm@4 into npmDir when it is not there yet, and loads it.
function LoadCedarWasm(npmDir) {
  const modulePath = path.join(npmDir, 'node_modules', '@cedar-policy', 'cedar-wasm', 'nodejs');
  if (!fs.existsSync(path.join(modulePath, 'cedar_wasm.js'))) {
    fs.mkdirSync(npmDir, {recursive: true});
    const r = childProcess.spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', npmDir,
      '@cedar-policy/cedar-wasm@4'], {encoding: 'utf8', timeout: 300000});
    if (r.status !== 0) {
      Fail(`npm install @cedar-policy/cedar-wasm@4 into \`${npmDir}\` failed: ` +
        `${(r.stderr || r.error || '').toString().trim().split('\n').pop()}`);
    }
  }
  return require(modulePath);
}

// ---------------------------------------------------------------------------------------------------

function PolicyText(c) {
  return c.policies.map((p) => p.text).join('\n\n') + '\n';
}

function WriteCaseFiles(dir, c, requests) {
  fs.mkdirSync(dir, {recursive: true});
  const files = {
    policies: path.join(dir, 'policies.cedar'),
    entities: path.join(dir, 'entities.json'),
    requests: path.join(dir, 'requests.jsonl'),
    schema: c.schema ? path.join(dir, 'schema.cedarschema') : null,
  };
  fs.writeFileSync(files.policies, PolicyText(c));
  fs.writeFileSync(files.entities, JSON.stringify(c.entities, null, 1) + '\n');
  fs.writeFileSync(files.requests, requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
  if (c.schema) fs.writeFileSync(files.schema, c.schema);
  return files;
}

function ArbiterCommand(arbiter, files) {
  const argv = [arbiter, 'cedar', 'authorize', '--policies', files.policies, '--entities', files.entities];
  if (files.schema) argv.push('--schema', files.schema);
  argv.push('--requests', files.requests);
  return argv;
}

// Normalised outcome: {decision, reason: [sorted ids], errors: [sorted ids]} or {failure: message}.
function Normalize(decision, reason, errors) {
  return {decision, reason: [...new Set(reason)].sort(), errors: [...new Set(errors)].sort()};
}

// Runs cedar-wasm on every request of a case. The policy set and schema are pre-parsed once per case
// (statefulIsAuthorized); entities and context are parsed per request, as the reference does.
function ReferenceOutcomes(cedar, c, requests) {
  const policies = c.useIds ? Object.fromEntries(c.policies.map((p) => [p.id, p.text])) : PolicyText(c);
  const parsed = cedar.preparsePolicySet('case', {staticPolicies: policies});
  if (parsed.type !== 'success') {
    const failure = `policy set rejected: ${parsed.errors.map((e) => e.message).join('; ')}`;
    return requests.map(() => ({failure}));
  }
  if (c.schema) {
    const schema = cedar.preparseSchema('case', c.schema);
    if (schema.type !== 'success') Fail(`cedar-wasm rejected the schema: ${JSON.stringify(schema.errors)}`);
  }
  return requests.map((r) => {
    const call = {principal: r.principal, action: r.action, resource: r.resource, context: r.context,
      preparsedPolicySetId: 'case', entities: c.entities};
    if (c.schema) {
      call.preparsedSchemaName = 'case';
      call.validateRequest = true;
    }
    const answer = cedar.statefulIsAuthorized(call);
    if (answer.type !== 'success') {
      return {failure: answer.errors.map((e) => e.message).join('; ')};
    }
    const d = answer.response.diagnostics;
    const out = Normalize(answer.response.decision, d.reason, d.errors.map((e) => e.policyId));
    out.messages = Object.fromEntries(d.errors.map((e) => [e.policyId, e.error.message]));
    return out;
  });
}

function ArbiterOutcomes(arbiter, c, requests, dir) {
  const files = WriteCaseFiles(dir, c, requests);
  const argv = ArbiterCommand(arbiter, files);
  const r = childProcess.spawnSync(argv[0], argv.slice(1), {encoding: 'utf8', timeout: 120000,
    maxBuffer: 256 * 1024 * 1024});
  const stderr = (r.stderr || '').trim();
  if (r.error || r.signal) {
    const why = r.error ? r.error.message : `killed by ${r.signal}`;
    return requests.map(() => ({failure: `arbiter did not finish: ${why} ${stderr}`.trim(), crash: true}));
  }
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== requests.length) {
    return requests.map(() => ({failure: `arbiter exited ${r.status} with ${lines.length} output ` +
      `lines for ${requests.length} requests: ${stderr.split('\n')[0] || '(no stderr)'}`, batch: true}));
  }
  return lines.map((line) => {
    let v;
    try {
      v = JSON.parse(line);
    } catch (e) {
      return {failure: `unparsable output line \`${line.slice(0, 200)}\``};
    }
    if (typeof v.decision !== 'string') return {failure: `error line ${line.slice(0, 300)}`};
    return Normalize(v.decision, v.reason || [], v.errors || []);
  });
}

function Agree(expected, got) {
  if (expected.failure !== undefined || got.failure !== undefined) {
    return expected.failure !== undefined && got.failure !== undefined;
  }
  return expected.decision === got.decision &&
    JSON.stringify(expected.reason) === JSON.stringify(got.reason) &&
    JSON.stringify(expected.errors) === JSON.stringify(got.errors);
}

function Kind(expected, got) {
  if (expected.failure !== undefined) return 'reference rejected the request, arbiter did not';
  if (got.failure !== undefined) return got.batch ? 'arbiter rejected the batch' : 'arbiter rejected the request';
  const kinds = [];
  if (expected.decision !== got.decision) kinds.push('decision');
  if (JSON.stringify(expected.reason) !== JSON.stringify(got.reason)) kinds.push('reason');
  if (JSON.stringify(expected.errors) !== JSON.stringify(got.errors)) kinds.push('errors');
  return kinds.join('+');
}

function Show(o) {
  if (o.failure !== undefined) return `failure: ${o.failure}`;
  return JSON.stringify({decision: o.decision, reason: o.reason, errors: o.errors});
}

// Policies whose role differs between the two outcomes (all of them when one side failed).
function SuspectPolicies(c, expected, got) {
  if (expected.failure !== undefined || got.failure !== undefined) return c.policies.map((p) => p.id);
  const diff = new Set();
  for (const key of ['reason', 'errors']) {
    const a = new Set(expected[key]);
    const b = new Set(got[key]);
    for (const x of a) if (!b.has(x)) diff.add(x);
    for (const x of b) if (!a.has(x)) diff.add(x);
  }
  return diff.size > 0 ? [...diff] : c.policies.map((p) => p.id);
}

// Shrinks a mismatch to one request, one policy (or none, when the entities alone are rejected),
// the entities and context attributes it needs, and saves it as a replayable directory.
function Reproduce(ctx, c, request, expected, got, label) {
  const stillFails = (candidate) => {
    const exp = ReferenceOutcomes(ctx.cedar, candidate, candidate.requests)[0];
    const act = ArbiterOutcomes(ctx.args.arbiter, candidate, candidate.requests,
      path.join(ctx.args.out, 'scratch'))[0];
    return Agree(exp, act) ? null : [exp, act];
  };
  let best = null;
  let outcome = null;
  const single = (policies) => {
    const small = Object.assign({}, c, {policies, requests: [request]});
    if (!small.useIds) small.policies = policies.map((p, i) => ({id: `policy${i}`, text: p.text}));
    return small;
  };
  const candidates = [[]].concat(SuspectPolicies(c, expected, got).map((id) =>
    c.policies.filter((p) => p.id === id)));
  for (const policies of candidates) {
    if (policies.length === 0 && got.failure === undefined) continue;
    const small = single(policies);
    const r = stillFails(small);
    if (r) {
      best = small;
      outcome = r;
      break;
    }
  }
  if (!best) return null;
  // Greedy: drop entities, then context attributes, while the mismatch persists (bounded).
  let budget = 80;
  for (let i = best.entities.length - 1; i >= 0 && budget > 0; --i, --budget) {
    const trial = Object.assign({}, best, {entities: best.entities.filter((_, k) => k !== i)});
    const r = stillFails(trial);
    if (r) {
      best = trial;
      outcome = r;
    }
  }
  for (const key of Object.keys(best.requests[0].context)) {
    if (budget-- <= 0) break;
    const req = JSON.parse(JSON.stringify(best.requests[0]));
    delete req.context[key];
    const trial = Object.assign({}, best, {requests: [req]});
    const r = stillFails(trial);
    if (r) {
      best = trial;
      outcome = r;
    }
  }
  return SaveReproducer(ctx, best, outcome[0], outcome[1], label);
}

function SaveReproducer(ctx, c, expected, got, label) {
  const dir = path.join(ctx.args.out, 'mismatches', label);
  fs.rmSync(dir, {recursive: true, force: true});
  const files = WriteCaseFiles(dir, c, c.requests);
  fs.writeFileSync(path.join(dir, 'case.json'), JSON.stringify(c, null, 1) + '\n');
  fs.writeFileSync(path.join(dir, 'expected.txt'),
    `cedar-wasm: ${Show(expected)}\n` +
    (expected.messages ? `messages:   ${JSON.stringify(expected.messages)}\n` : '') +
    `arbiter:    ${Show(got)}\n` +
    `command:    ${ArbiterCommand(ctx.args.arbiter, files).join(' ')}\n`);
  return dir;
}

// ---------------------------------------------------------------------------------------------------

function RunCase(ctx, c, label) {
  const expected = ReferenceOutcomes(ctx.cedar, c, c.requests);
  const got = ArbiterOutcomes(ctx.args.arbiter, c, c.requests, path.join(ctx.args.out, 'current'));
  ctx.requests += c.requests.length;
  for (let i = 0; i < c.requests.length; ++i) {
    if (expected[i].failure !== undefined) ctx.referenceFailures++;
    if (Agree(expected[i], got[i])) continue;
    ctx.mismatches++;
    const kind = Kind(expected[i], got[i]);
    ctx.kinds[kind] = (ctx.kinds[kind] || 0) + 1;
    if (got[i].crash) ctx.crashes++;
    // A rejected batch is reported once per distinct message, not once per request.
    const signature = got[i].batch ? got[i].failure : null;
    if (signature && ctx.seenBatchFailures.has(signature)) continue;
    if (signature) ctx.seenBatchFailures.add(signature);
    if (ctx.printed < ctx.args.maxReproducers) {
      ctx.printed++;
      const reproducer = Reproduce(ctx, c, c.requests[i], expected[i], got[i], `${label}-r${i}`);
      console.log(`MISMATCH ${label} request ${i} (${kind})`);
      console.log(`  request:    ${JSON.stringify(c.requests[i])}`);
      console.log(`  cedar-wasm: ${Show(expected[i])}`);
      console.log(`  arbiter:    ${Show(got[i])}`);
      if (reproducer) {
        const small = JSON.parse(fs.readFileSync(path.join(reproducer, 'case.json'), 'utf8'));
        console.log(`  reproducer: ${reproducer}`);
        console.log(`    policies: ${PolicyText(small).trim().split('\n').join('\n              ') || '(none)'}`);
        console.log(`    entities: ${JSON.stringify(small.entities)}`);
        console.log(`    request:  ${JSON.stringify(small.requests[0])}`);
        console.log(`    ${fs.readFileSync(path.join(reproducer, 'expected.txt'), 'utf8').trim().split('\n').join('\n    ')}`);
      } else {
        console.log('  reproducer: none with a single policy; the whole case is in ' +
          SaveReproducer(ctx, Object.assign({}, c, {requests: [c.requests[i]]}), expected[i], got[i], `${label}-r${i}-full`));
      }
    }
  }
}

function Main() {
  const args = ParseArgs(process.argv);
  const cedar = LoadCedarWasm(args.npmDir);
  if (args.installOnly) {
    console.log(`cedar-wasm ${cedar.getCedarSDKVersion()} (Cedar language ${cedar.getCedarLangVersion()}) ` +
      `in ${args.npmDir}`);
    return;
  }
  fs.mkdirSync(args.out, {recursive: true});
  const ctx = {args, cedar, requests: 0, mismatches: 0, referenceFailures: 0, crashes: 0, printed: 0,
    kinds: {}, seenBatchFailures: new Set()};
  const started = Date.now();
  if (args.replay.length > 0) {
    // Each replay root is a reproducer directory (holding case.json) or a folder of them.
    const dirs = [];
    for (const root of args.replay) {
      if (fs.existsSync(path.join(root, 'case.json'))) dirs.push(root);
      else if (fs.existsSync(root)) {
        for (const name of fs.readdirSync(root).sort()) {
          if (fs.existsSync(path.join(root, name, 'case.json'))) dirs.push(path.join(root, name));
        }
      }
    }
    for (const dir of dirs) {
      const c = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8'));
      RunCase(ctx, c, `replay-${path.basename(dir)}`);
    }
    console.log(`replayed ${dirs.length} saved cases`);
  }
  if (args.replay.length === 0 || args.cases > 0) {
    for (let i = 0; i < args.cases; ++i) {
      const caseSeed = CaseSeed(args.seed, i);
      const c = GenerateCase(caseSeed, {requests: args.requestsPerCase});
      if (args.referenceOnly) {
        const outcomes = ReferenceOutcomes(cedar, c, c.requests);
        ctx.requests += outcomes.length;
        const seen = new Set();
        for (const o of outcomes) {
          if (o.failure === undefined) continue;
          ctx.referenceFailures++;
          if (seen.has(o.failure)) continue;
          seen.add(o.failure);
          if (ctx.printed++ < args.maxReproducers) console.log(`case ${i} seed ${caseSeed}: ${o.failure}`);
        }
        continue;
      }
      RunCase(ctx, c, `s${args.seed}-c${i}`);
      if (!args.quiet && (i + 1) % 100 === 0) {
        process.stderr.write(`  ${i + 1}/${args.cases} cases, ${ctx.requests} requests, ` +
          `${ctx.mismatches} mismatches\n`);
      }
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const kinds = Object.entries(ctx.kinds).map(([k, n]) => `${k}: ${n}`).join(', ');
  console.log(`seed ${args.seed}: ${ctx.requests} requests in ${args.cases} cases, ` +
    `${ctx.mismatches} mismatches${kinds ? ` (${kinds})` : ''}, ` +
    `${ctx.referenceFailures} requests rejected by cedar-wasm, ${seconds} s`);
  process.exit(ctx.mismatches > 0 ? 1 : 0);
}

Main();
