// The peer a user might pick instead of Arbiter for `POST /v1/cases`: an Express server that makes
// the same Cedar routing decision (`ai_handle` for the pack's AI pool on the case) with
// @cedar-policy/cedar-wasm, on the same policy pack, behind the same bearer-token check. For the
// side-by-side load test in run_load.sh (docs/benchmarks/server.md); not part of Arbiter.
//
//   npm install --prefix build/rel/npm-server express @cedar-policy/cedar-wasm
//   NODE_PATH=build/rel/npm-server/node_modules node bench/server/express_cedar_server.js \
//       --pack examples/support --token s3cret --port 8090 --workers 2
//
// With --workers N > 1 it runs N processes with node's cluster module (how Express is deployed on
// several cores); they share the port. Prints its address on stdout, serves until SIGTERM. What it does per request: bearer token
// (SHA-256 compared with the configured token's digest, as Arbiter does), JSON body (1 MiB limit),
// the Case entity from the case by routing.toml's [signals] mapping of the example pack, one
// statefulIsAuthorized call (policies pre-parsed once; the pack's entities passed per call, as the
// API requires), and a JSON answer with the route and the determining policies. What it does not
// do that Arbiter does: no PII scan or duplicate detection (sensitivity stays `public`), no
// escalation queue choice from annotations, no case state, no evidence record and no fsync.
'use strict';

const cluster = require('cluster');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const express = require('express');
const cedar = require('@cedar-policy/cedar-wasm/nodejs');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const workers = Number(arg('--workers', '1'));
if (workers > 1 && cluster.isPrimary) {
  if (!Number(arg('--port', '0'))) {
    console.error('express_cedar_server: --workers needs a --port');
    process.exit(1);
  }
  let listening = 0;
  for (let i = 0; i < workers; ++i) {
    cluster.fork().on('listening', (a) => {
      if (++listening === workers) console.log(`127.0.0.1:${a.port}`);
    });
  }
  const stop = () => {
    for (const id in cluster.workers) cluster.workers[id].kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return;
}

const pack = arg('--pack', 'examples/support');
const token = arg('--token', '');
const port = Number(arg('--port', '0'));
if (!token) {
  console.error('express_cedar_server: --token is required');
  process.exit(1);
}
const tokenDigest = crypto.createHash('sha256').update(token).digest();

const policyDir = path.join(pack, 'policies');
const policies = fs.readdirSync(policyDir)
                     .filter((f) => f.endsWith('.cedar'))
                     .sort()
                     .map((f) => fs.readFileSync(path.join(policyDir, f), 'utf8'))
                     .join('\n');
const parsed = cedar.preparsePolicySet('pack', {staticPolicies: policies});
if (parsed.type !== 'success') {
  console.error('express_cedar_server: policies: ' + JSON.stringify(parsed.errors));
  process.exit(1);
}
const packEntities = JSON.parse(fs.readFileSync(path.join(pack, 'entities.json'), 'utf8'));

const get = (o, dotted) => dotted.split('.').reduce((v, k) => (v == null ? undefined : v[k]), o);
const or = (v, d) => (v === undefined || v === null ? d : v);

// routing.toml [signals] of examples/support.
function caseEntity(c) {
  const confidence = get(c, 'ai.confidence');
  return {
    uid: {type: 'Case', id: String(c.id)},
    attrs: {
      tier: or(get(c, 'customer.tier'), 'standard'),
      severity: or(c.severity, 4),
      priority: or(c.priority, 'normal'),
      category: or(c.category, ''),
      language: or(c.language, 'en').split('-')[0],
      channel: or(c.channel, ''),
      ai_confidence: typeof confidence === 'number' ? Math.round(confidence * 100) : 0,
      fraud: or(get(c, 'indicators.fraud'), false),
      regulatory: or(get(c, 'indicators.regulatory'), false),
      safety: or(get(c, 'indicators.safety'), false),
      sensitivity: 'public',
      sensitivity_rank: 0,
      sensitive_kinds: [],
      duplicate_cluster: 1,
      account_status: or(get(c, 'attributes.account_status'), 'active'),
    },
    parents: [],
  };
}

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.use(express.json({limit: '1mb'}));

app.post('/v1/cases', (req, res) => {
  const auth = req.get('authorization') || '';
  const presented = auth.startsWith('Bearer ') ? auth.slice(7) : '';
  const digest = crypto.createHash('sha256').update(presented).digest();
  if (!presented || !crypto.timingSafeEqual(digest, tokenDigest)) {
    return res.status(401).json({error: {code: 'unauthenticated', message: 'bad token', field: null}});
  }
  const c = req.body;
  if (!c || typeof c !== 'object' || typeof c.id !== 'string' || !c.id) {
    return res.status(400).json(
        {error: {code: 'invalid_argument', message: 'id: expected a string', field: 'id'}});
  }
  const answer = cedar.statefulIsAuthorized({
    principal: {type: 'AgentPool', id: 'support-ai'},
    action: {type: 'Action', id: 'ai_handle'},
    resource: {type: 'Case', id: c.id},
    context: {},
    preparsedPolicySetId: 'pack',
    entities: packEntities.concat([caseEntity(c)]),
  });
  if (answer.type !== 'success') {
    return res.status(500).json({error: {code: 'internal', message: 'authorizer', field: null}});
  }
  const allow = answer.response.decision === 'allow';
  res.status(201).json({
    case_id: c.id,
    decision: {route: allow ? 'ai' : 'human', policies: answer.response.diagnostics.reason},
  });
});

const server = app.listen(port, '127.0.0.1', () => {
  const a = server.address();
  if (!cluster.isWorker) console.log(`${a.address}:${a.port}`);
});
server.keepAliveTimeout = 60000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
