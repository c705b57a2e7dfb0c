// Verifies Arbiter's tokens with the npm package `jose` against Arbiter's JWKS.
// Usage: node jose_interop.mjs <dir>  (dir holds cases.json and jwks.json, written by
// jose_interop_test.cpp). Exits 0 only when every token that must verify does, with the expected
// claims, and every token that must fail does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';

const dir = process.argv[2];
const jwks = JSON.parse(readFileSync(join(dir, 'jwks.json'), 'utf8'));
const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
const keySet = createLocalJWKSet(jwks);

let failures = 0;
let passed = 0;
for (const c of cases) {
  const options = { issuer: c.issuer, audience: c.audience, algorithms: ['ES256'], typ: c.typ };
  if (c.max_age) options.maxTokenAge = c.max_age;
  try {
    const { payload, protectedHeader } = await jwtVerify(c.token, keySet, options);
    if (!c.valid) {
      console.error(`FAIL ${c.name}: jose accepted a token that must be refused`);
      failures++;
      continue;
    }
    for (const [k, v] of Object.entries(c.claims ?? {})) {
      if (JSON.stringify(payload[k]) !== JSON.stringify(v)) {
        console.error(`FAIL ${c.name}: claim ${k} is ${JSON.stringify(payload[k])}, want ${JSON.stringify(v)}`);
        failures++;
      }
    }
    if (protectedHeader.kid !== c.kid) {
      console.error(`FAIL ${c.name}: kid ${protectedHeader.kid}, want ${c.kid}`);
      failures++;
    }
    passed++;
  } catch (e) {
    if (c.valid) {
      console.error(`FAIL ${c.name}: ${e.code ?? ''} ${e.message}`);
      failures++;
    } else {
      passed++;
    }
  }
}
if (failures > 0 || passed !== cases.length) {
  console.error(`${failures} failure(s), ${passed}/${cases.length} cases as expected`);
  process.exit(1);
}
console.log(`ok ${passed} cases`);
