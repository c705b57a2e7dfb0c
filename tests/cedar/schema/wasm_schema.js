// Differential check of schema translation against @cedar-policy/cedar-wasm. For each base name B
// in the list (files B.cedarschema, B.ours.json and optionally B.cedar under --dir), prints one JSON
// line:
//   {"base": B,
//    "wasmJson": schemaToJson(B.cedarschema) or null, "wasmJsonError": message,
//    "textFromOurs": schemaToText(B.ours.json) or null, "textFromOursError": message,
//    "validHuman": [policy errors validating B.cedar against B.cedarschema] or null,
//    "validJson":  [the same against B.ours.json] or null}
//   node wasm_schema.js --npm-dir DIR --dir DIR --list FILE
'use strict';
const fs = require('fs');
const path = require('path');
const args = process.argv.slice(2);
let npmDir = null, dir = '.', list = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--npm-dir') npmDir = args[++i];
  else if (args[i] === '--dir') dir = args[++i];
  else if (args[i] === '--list') list = args[++i];
}
const cedar = require(path.join(npmDir, 'node_modules/@cedar-policy/cedar-wasm/nodejs'));
const message = (r) => r.errors.map((e) => e.message).join('; ');
function validate(schema, policies) {
  const r = cedar.validate({validationSettings: {mode: 'strict'}, schema,
                            policies: {staticPolicies: policies}});
  if (r.type !== 'success') return null;
  return r.validationErrors.map((e) => e.policyId + ': ' + e.error.message).sort();
}
for (const base of fs.readFileSync(list, 'utf8').split('\n').filter(Boolean)) {
  const human = fs.readFileSync(path.join(dir, base + '.cedarschema'), 'utf8');
  const ours = JSON.parse(fs.readFileSync(path.join(dir, base + '.ours.json'), 'utf8'));
  const out = {base};
  const j = cedar.schemaToJson(human);
  if (j.type === 'success') out.wasmJson = j.json; else out.wasmJsonError = message(j);
  const t = cedar.schemaToText(ours);
  if (t.type === 'success') out.textFromOurs = t.text; else out.textFromOursError = message(t);
  const pfile = path.join(dir, base + '.cedar');
  if (fs.existsSync(pfile)) {
    const policies = fs.readFileSync(pfile, 'utf8');
    out.validHuman = validate(human, policies);
    out.validJson = validate(ours, policies);
  }
  console.log(JSON.stringify(out));
}
