// Validates conformance test files with @cedar-policy/cedar-wasm (strict mode) and prints one JSON
// line per test: {"test": path, "valid": bool, "errors": [messages]}. Used to compare our validator
// with the reference release installed (4.13 at the time of writing).
//   node wasm_validate.js --npm-dir DIR --root CORPUS_ROOT TEST.json...   (or --list FILE)
'use strict';
const fs = require('fs');
const path = require('path');
const args = process.argv.slice(2);
let npmDir = null, root = '.', files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--npm-dir') npmDir = args[++i];
  else if (args[i] === '--root') root = args[++i];
  else if (args[i] === '--list') files.push(...fs.readFileSync(args[++i], 'utf8').split('\n').filter(Boolean));
  else files.push(args[i]);
}
const cedar = require(path.join(npmDir, 'node_modules/@cedar-policy/cedar-wasm/nodejs'));
for (const f of files) {
  const t = JSON.parse(fs.readFileSync(path.join(root, f), 'utf8'));
  const answer = cedar.validate({
    validationSettings: {mode: 'strict'},
    schema: fs.readFileSync(path.join(root, t.schema), 'utf8'),
    policies: {staticPolicies: fs.readFileSync(path.join(root, t.policies), 'utf8')},
  });
  let valid = false, errors = [];
  if (answer.type === 'success') {
    valid = answer.validationErrors.length === 0;
    errors = answer.validationErrors.map(e => e.policyId + ': ' + e.error.message);
  } else {
    errors = answer.errors.map(e => e.message);
  }
  console.log(JSON.stringify({test: f, valid, should: t.shouldValidate, errors}));
}
