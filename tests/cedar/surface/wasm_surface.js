#!/usr/bin/env node
'use strict';
// Differential check of Arbiter's policy surface syntax against @cedar-policy/cedar-wasm, on the
// conformance corpus's policy files:
//   1. cedar-to-json: `arbiter cedar translate-policy --direction cedar-to-json` vs cedar-wasm's
//      policyToJson / templateToJson, policy by policy, compared as JSON values;
//   2. json-to-cedar: cedar-wasm's JSON translated to text by Arbiter, parsed back by cedar-wasm,
//      must give cedar-wasm's JSON again.
// Both sides are normalised for the documented representation differences only: `has a.b` (Cedar
// 4.13 writes "attr": ["a", "b"]; Arbiter the conjunction it means), like patterns (adjacent
// literals joined, repeated wildcards collapsed), `action in [A]` vs `action in A`, and the string
// argument of a valid extension constructor (Arbiter prints the canonical form).
//
//   node wasm_surface.js --arbiter build/dev/src/arbiter/cli/arbiter --npm-dir build/dev/npm-cedar \
//       --corpus build/dev/cedar-corpus/corpus-tests [--extra tests/cedar/surface/policies] \
//       [--stride 1] [--chunk 200] [--max-report 10]
//
// Exit status: 0 when everything agrees, 1 on a mismatch, 2 on a setup failure.
const fs = require('fs');
const os = require('os');
const path = require('path');
const childProcess = require('child_process');

function Fail(message) {
  process.stderr.write(`wasm_surface: ${message}\n`);
  process.exit(2);
}

const args = {stride: 1, chunk: 200, maxReport: 10, corpus: [], extra: []};
for (let i = 2; i < process.argv.length; ++i) {
  const a = process.argv[i];
  const value = () => {
    if (i + 1 >= process.argv.length) Fail(`missing value after \`${a}\``);
    return process.argv[++i];
  };
  if (a === '--arbiter') args.arbiter = value();
  else if (a === '--npm-dir') args.npmDir = value();
  else if (a === '--corpus') args.corpus.push(value());
  else if (a === '--extra') args.extra.push(value());
  else if (a === '--stride') args.stride = Number(value());
  else if (a === '--chunk') args.chunk = Number(value());
  else if (a === '--max-report') args.maxReport = Number(value());
  else Fail(`unknown argument \`${a}\``);
}
if (!args.arbiter || !args.npmDir || !args.corpus.length) Fail('--arbiter, --npm-dir and --corpus are required');
const modulePath = path.join(path.resolve(args.npmDir), 'node_modules', '@cedar-policy', 'cedar-wasm', 'nodejs');
if (!fs.existsSync(path.join(modulePath, 'cedar_wasm.js'))) {
  Fail(`cedar-wasm is not installed in \`${args.npmDir}\` (the cedar_differential_install test does it)`);
}
const cedar = require(modulePath);
// The corpus comes from ../shared (ARBITER_SHARED_DIR): without it the test is skipped (ctest's
// SKIP_RETURN_CODE 77), never passed silently.
for (const dir of args.corpus) {
  if (!fs.existsSync(dir)) {
    console.log(`skipped: no Cedar corpus at \`${dir}\` (set ARBITER_SHARED_DIR to the shared data)`);
    process.exit(77);
  }
}
for (const dir of args.extra) if (!fs.existsSync(dir)) Fail(`no directory \`${dir}\``);

// ---- normalisation ----

function CanonDecimal(s) {
  const m = /^(-?)(\d+)\.(\d{1,4})$/.exec(s);
  if (!m) return null;
  const v = BigInt(m[2]) * 10000n + BigInt(m[3].padEnd(4, '0'));
  return 'decimal:' + (m[1] && v !== 0n ? '-' : '') + v.toString();
}

function CanonDuration(s) {
  const m = /^(-?)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(s);
  if (!m || s === '' || s === '-') return null;
  const [d, h, mi, se, ms] = m.slice(2).map((x) => BigInt(x || 0));
  const v = (((d * 24n + h) * 60n + mi) * 60n + se) * 1000n + ms;
  return 'duration:' + (m[1] ? -v : v).toString();
}

function CanonDatetime(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?(Z|[+-]\d{4}))?$/.exec(s);
  if (!m) return null;
  let v = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0), +(m[7] || 0));
  if (m[1].length === 4 && +m[1] < 100) {
    const d = new Date(v);
    d.setUTCFullYear(+m[1]);
    v = d.getTime();
  }
  if (m[8] && m[8] !== 'Z') {
    const sign = m[8][0] === '-' ? -1 : 1;
    v -= sign * (+m[8].slice(1, 3) * 60 + +m[8].slice(3, 5)) * 60000;
  }
  return 'datetime:' + v;
}

function CanonIp(s) {
  let [addr, prefix] = s.split('/');
  if (addr.includes(':')) {
    const halves = addr.split('::');
    if (halves.length > 2) return null;
    const parse = (h) => (h === '' ? [] : h.split(':'));
    let groups = parse(halves[0]);
    if (halves.length === 2) {
      const tail = parse(halves[1]);
      groups = groups.concat(Array(8 - groups.length - tail.length).fill('0'), tail);
    }
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
    addr = groups.map((g) => parseInt(g, 16).toString(16)).join(':');
    if (prefix === '128') prefix = undefined;
  } else if (prefix === '32') {
    prefix = undefined;
  }
  return 'ip:' + addr + (prefix === undefined ? '' : '/' + prefix);
}

const kCanon = {decimal: CanonDecimal, duration: CanonDuration, datetime: CanonDatetime, ip: CanonIp};

function Expand(left, attrs) {
  let result = null;
  for (let i = 0; i < attrs.length; ++i) {
    let base = left;
    for (let k = 0; k < i; ++k) base = {'.': {left: base, attr: attrs[k]}};
    const h = {has: {left: base, attr: attrs[i]}};
    result = result ? {'&&': {left: result, right: h}} : h;
  }
  return result;
}

function Pattern(p) {
  const out = [];
  for (const el of p) {
    if (el === 'Wildcard') {
      if (out.length === 0 || out[out.length - 1] !== 'Wildcard') out.push('Wildcard');
    } else if (out.length && out[out.length - 1] !== 'Wildcard') {
      out[out.length - 1] = {Literal: out[out.length - 1].Literal + el.Literal};
    } else {
      out.push({Literal: el.Literal});
    }
  }
  return out;
}

function Expr(e) {
  if (Array.isArray(e)) return e.map(Expr);
  if (e === null || typeof e !== 'object') return e;
  const keys = Object.keys(e);
  if (keys.length === 1) {
    const k = keys[0];
    const v = e[k];
    if (k === 'Value') return e;
    if (k === 'has' && Array.isArray(v.attr)) return Expr(Expand(v.left, v.attr));
    if (k === 'like') return {like: {left: Expr(v.left), pattern: Pattern(v.pattern)}};
    if (kCanon[k] && Array.isArray(v) && v.length === 1 && v[0].Value !== undefined &&
        typeof v[0].Value === 'string') {
      const c = kCanon[k](v[0].Value);
      if (c !== null) return {[k]: [{Value: c}]};
    }
  }
  const out = {};
  for (const k of keys) out[k] = Expr(e[k]);
  return out;
}

function Entity(x) {
  return x && x.__entity ? x.__entity : x;
}

function Scope(s) {
  const out = Object.assign({}, s);
  if (out.entity) out.entity = Entity(out.entity);
  if (out.entities) out.entities = out.entities.map(Entity);
  if (out.entities && out.entities.length === 1) {
    out.entity = out.entities[0];
    delete out.entities;
  }
  if (out.in && out.in.entity) out.in = {entity: Entity(out.in.entity)};
  return out;
}

function Policy(p) {
  const out = {effect: p.effect, principal: Scope(p.principal), action: Scope(p.action),
    resource: Scope(p.resource),
    conditions: (p.conditions || []).map((c) => ({kind: c.kind, body: Expr(c.body)}))};
  if (p.annotations && Object.keys(p.annotations).length) out.annotations = p.annotations;
  return out;
}

function SafeIntegers(v) {
  if (typeof v === 'number') return Number.isSafeInteger(v);
  if (v && typeof v === 'object') return Object.values(v).every(SafeIntegers);
  return true;
}

function Stable(v) {
  if (Array.isArray(v)) return '[' + v.map(Stable).join(',') + ']';
  if (v && typeof v === 'object') {
    return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + Stable(v[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

// ---- the reference ----

function WasmParts(text) {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type !== 'success') return {error: parts.errors.map((e) => e.message).join('; ')};
  const json = (answer) => {
    if (answer.type !== 'success') throw new Error(answer.errors.map((e) => e.message).join('; '));
    return answer.json;
  };
  return {
    statics: parts.policies.map((p) => json(cedar.policyToJson(p))),
    templates: parts.policy_templates.map((t) => json(cedar.templateToJson(t))),
  };
}

function Arbiter(direction, input, tmp) {
  const file = path.join(tmp, direction === 'cedar-to-json' ? 'in.cedar' : 'in.json');
  fs.writeFileSync(file, input);
  const r = childProcess.spawnSync(args.arbiter, ['cedar', 'translate-policy', '--direction', direction, file],
    {encoding: 'utf8', maxBuffer: 1 << 30});
  if (r.status !== 0) return {error: (r.stderr || String(r.error)).trim()};
  return {out: r.stdout};
}

// ---- main ----

// Each directory's .cedar files, one policy per file (cedar-wasm does not keep the order of a
// policy set's policies, so policies are compared file by file).
const files = [];
// --corpus directories are sampled with --stride; every file of an --extra directory is used.
for (const [dir, stride] of args.corpus.map((d) => [d, args.stride]).concat(args.extra.map((d) => [d, 1]))) {
  fs.readdirSync(dir).filter((f) => f.endsWith('.cedar')).sort()
    .filter((f, i) => i % stride === 0).forEach((f) => files.push(path.join(dir, f)));
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-surface-'));
let policies = 0, toJsonMismatch = 0, toCedarMismatch = 0, skipped = 0, reported = 0, unsafe = 0;
const report = (what) => {
  if (reported++ < args.maxReport) process.stdout.write(what + '\n');
};
const started = Date.now();
for (let c = 0; c < files.length; c += args.chunk) {
  const chunk = files.slice(c, c + args.chunk);
  const ours = [];  // per file: {statics, templates} expected from the reference
  let text = '';
  for (const f of chunk) {
    const t = fs.readFileSync(f, 'utf8');
    const w = WasmParts(t);
    if (w.error) {
      ++skipped;  // the reference rejects it; our parser's agreement is the conformance tests' job
      continue;
    }
    ours.push({file: f, wasm: w});
    text += t + '\n';
  }
  // 1. cedar-to-json on the whole chunk at once (policy ids are file order: policy0, policy1, ...).
  const r = Arbiter('cedar-to-json', text, tmp);
  if (r.error) Fail(`arbiter cedar-to-json failed: ${r.error}`);
  const est = JSON.parse(r.out);
  const statics = Object.values(est.staticPolicies);
  const templates = Object.values(est.templates);
  let si = 0, ti = 0;
  const linked = {staticPolicies: {}, templates: {}};
  const expected = [];
  for (const {file, wasm} of ours) {
    for (const [list, mine, kind] of [[wasm.statics, statics, 's'], [wasm.templates, templates, 't']]) {
      for (const ref of list) {
        const got = kind === 's' ? mine[si++] : mine[ti++];
        ++policies;
        if (Stable(Policy(ref)) !== Stable(Policy(got || {}))) {
          ++toJsonMismatch;
          report(`cedar-to-json ${file}:\n  cedar-wasm ${JSON.stringify(Policy(ref))}\n  arbiter    ${JSON.stringify(Policy(got || {}))}`);
        }
        if (!SafeIntegers(ref)) {
          ++unsafe;  // JavaScript numbers cannot carry it to Arbiter exactly
          continue;
        }
        const id = `p${expected.length}`;
        (kind === 's' ? linked.staticPolicies : linked.templates)[id] = ref;
        expected.push({file, kind, ref});
      }
    }
  }
  // 2. json-to-cedar on cedar-wasm's JSON, parsed back by cedar-wasm.
  const back = Arbiter('json-to-cedar', JSON.stringify(linked), tmp);
  if (back.error) {
    ++toCedarMismatch;
    report(`json-to-cedar failed on chunk ${c}: ${back.error}`);
    continue;
  }
  // The text lists static policies, then templates, separated by blank lines (the formatter
  // never writes a blank line inside a policy). Each is parsed on its own: cedar-wasm does not
  // keep a policy set's order.
  const texts = back.out.split('\n\n');
  const order = expected.filter((e) => e.kind === 's').concat(expected.filter((e) => e.kind === 't'));
  if (texts.length !== order.length) {
    ++toCedarMismatch;
    report(`json-to-cedar on chunk ${c} printed ${texts.length} policies, expected ${order.length}`);
    continue;
  }
  for (let i = 0; i < order.length; ++i) {
    const {file, kind, ref} = order[i];
    const parsed = WasmParts(texts[i]);
    if (parsed.error) {
      ++toCedarMismatch;
      report(`json-to-cedar ${file}: cedar-wasm cannot parse arbiter's text: ${parsed.error}\n${texts[i]}`);
      continue;
    }
    const got = kind === 's' ? parsed.statics[0] : parsed.templates[0];
    if (Stable(Policy(ref)) !== Stable(Policy(got || {}))) {
      ++toCedarMismatch;
      report(`json-to-cedar ${file}:\n  cedar-wasm ${JSON.stringify(Policy(ref))}\n  reparsed   ${JSON.stringify(Policy(got || {}))}`);
    }
  }
}
fs.rmSync(tmp, {recursive: true, force: true});
const seconds = ((Date.now() - started) / 1000).toFixed(1);
process.stdout.write(`cedar-wasm ${cedar.getCedarVersion()}: ${files.length} files, ${policies} policies, ` +
  `${toJsonMismatch} cedar-to-json mismatches, ${toCedarMismatch} json-to-cedar mismatches, ` +
  `${skipped} files the reference rejects, ${unsafe} policies with integers beyond 2^53 left out ` +
  `of json-to-cedar, ${seconds} s\n`);
process.exit(toJsonMismatch || toCedarMismatch ? 1 : 0);
