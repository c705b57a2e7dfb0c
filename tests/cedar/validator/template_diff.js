#!/usr/bin/env node
'use strict';
// Differential check of `arbiter cedar validate` on templates and template links against
// @cedar-policy/cedar-wasm (strict mode; we run with --cedar-version 4.13 to match the installed
// 4.13 release). For every case in cases.json: the schema, policies (static or templates, each with
// an id) and links go to both; we compare whether the set validates, which policy ids have errors,
// which have warnings, and where each error is (the byte range inside its policy's text, for the
// errors both sides locate).
//
//   node template_diff.js --arbiter build/dev/src/arbiter/cli/arbiter --npm-dir build/dev/npm-cedar \
//       --cases tests/cedar/validator/template_cases.json --out build/dev/template-diff
//
// Exit status: 0 when every case agrees, 1 on a mismatch, 2 on a setup failure.
const fs = require('fs');
const path = require('path');
const childProcess = require('child_process');

const args = {arbiter: null, npmDir: null, cases: null, out: null, verbose: false};
for (let i = 2; i < process.argv.length; ++i) {
  const a = process.argv[i];
  const value = () => process.argv[++i];
  if (a === '--arbiter') args.arbiter = value();
  else if (a === '--npm-dir') args.npmDir = value();
  else if (a === '--cases') args.cases = value();
  else if (a === '--out') args.out = value();
  else if (a === '--verbose') args.verbose = true;
  else Setup(`unknown argument \`${a}\``);
}
if (!args.arbiter || !args.npmDir || !args.cases || !args.out) {
  Setup('usage: --arbiter PATH --npm-dir DIR --cases FILE --out DIR');
}

function Setup(message) {
  process.stderr.write(`template_diff: ${message}\n`);
  process.exit(2);
}

const modulePath = path.join(path.resolve(args.npmDir), 'node_modules/@cedar-policy/cedar-wasm/nodejs');
if (!fs.existsSync(path.join(modulePath, 'cedar_wasm.js'))) {
  Setup(`@cedar-policy/cedar-wasm is not installed in ${args.npmDir} (run the cedar_differential_install test)`);
}
const cedar = require(modulePath);
fs.mkdirSync(args.out, {recursive: true});

function Sorted(xs) { return [...new Set(xs)].sort(); }

function Reference(c) {
  const staticPolicies = {}, templates = {};
  for (const p of c.policies) (p.template ? templates : staticPolicies)[p.id] = p.text;
  const answer = cedar.validate({
    validationSettings: {mode: 'strict'},
    schema: c.schema,
    policies: {staticPolicies, templates, templateLinks: c.links || []},
  });
  if (answer.type !== 'success') return {setupError: answer.errors.map(e => e.message).join('; ')};
  const loc = e => (e.error.sourceLocations || []).map(l => [l.start, l.end]);
  return {
    valid: answer.validationErrors.length === 0,
    errorIds: Sorted(answer.validationErrors.map(e => e.policyId)),
    warningIds: Sorted(answer.validationWarnings.map(e => e.policyId)),
    errors: answer.validationErrors.map(e => ({id: e.policyId, loc: loc(e), message: e.error.message})),
  };
}

function Ours(c, dir) {
  // One file: `@id("…")` then each policy's text on its own line; remember where each text starts.
  let text = '';
  const starts = {};
  for (const p of c.policies) {
    text += `@id(${JSON.stringify(p.id)})\n`;
    starts[p.id] = Buffer.byteLength(text);
    text += p.text + '\n';
  }
  const pfile = path.join(dir, `${c.name}.cedar`);
  const sfile = path.join(dir, `${c.name}.cedarschema`);
  const lfile = path.join(dir, `${c.name}.links.json`);
  fs.writeFileSync(pfile, text);
  fs.writeFileSync(sfile, c.schema);
  fs.writeFileSync(lfile, JSON.stringify({templateLinks: c.links || []}));
  const run = childProcess.spawnSync(args.arbiter, ['cedar', 'validate', '--json', '--cedar-version', '4.13',
    '--policies', pfile, '--schema', sfile, '--links', lfile], {encoding: 'utf8'});
  if (run.status !== 0 && run.status !== 2) return {setupError: `exit ${run.status}: ${run.stderr.trim()}`};
  const out = JSON.parse(run.stdout);
  const template = {};
  for (const l of c.links || []) template[l.newId] = l.templateId;
  // Positions relative to the policy's own text (a link's errors are in its template's text).
  const rel = e => {
    const start = starts[e.policyId] ?? starts[template[e.policyId]];
    return e.begin >= start && e.end > e.begin ? [e.begin - start, e.end - start] : null;
  };
  return {
    valid: out.valid,
    errorIds: Sorted(out.errors.map(e => e.policyId)),
    warningIds: Sorted(out.warnings.map(e => e.policyId)),
    errors: out.errors.map(e => ({id: e.policyId, loc: rel(e), message: e.message})),
  };
}

const cases = JSON.parse(fs.readFileSync(args.cases, 'utf8'));
let failed = 0, located = 0, locatedSame = 0;
for (const c of cases) {
  const ref = Reference(c);
  const ours = Ours(c, args.out);
  const problems = [];
  if (ref.setupError) problems.push(`reference rejected the input: ${ref.setupError}`);
  if (ours.setupError) problems.push(`arbiter rejected the input: ${ours.setupError}`);
  if (!problems.length) {
    if (ref.valid !== ours.valid) problems.push(`valid: reference ${ref.valid}, arbiter ${ours.valid}`);
    if (JSON.stringify(ref.errorIds) !== JSON.stringify(ours.errorIds)) {
      problems.push(`policies with errors: reference ${ref.errorIds}, arbiter ${ours.errorIds}`);
    }
    if (JSON.stringify(ref.warningIds) !== JSON.stringify(ours.warningIds)) {
      problems.push(`policies with warnings: reference ${ref.warningIds}, arbiter ${ours.warningIds}`);
    }
    // Every located reference error must have an arbiter error of the same policy at the same place.
    for (const e of ref.errors) {
      if (!e.loc.length) continue;
      ++located;
      const same = ours.errors.some(o => o.id === e.id && o.loc &&
                                         e.loc.some(l => l[0] === o.loc[0] && l[1] === o.loc[1]));
      if (same) {
        ++locatedSame;
      } else {
        problems.push(`error of \`${e.id}\` at ${JSON.stringify(e.loc)} (${e.message}); arbiter: ` +
                      JSON.stringify(ours.errors.filter(o => o.id === e.id)));
      }
    }
  }
  if (problems.length) {
    ++failed;
    console.log(`MISMATCH ${c.name}:\n  ${problems.join('\n  ')}`);
  } else if (args.verbose) {
    console.log(`ok ${c.name} (valid: ${ref.valid}, errors: ${ref.errorIds})`);
  }
}
console.log(`${cases.length - failed} of ${cases.length} cases agree; ${locatedSame} of ${located} ` +
            'located reference errors at the same byte range');
process.exit(failed ? 1 : 0);
