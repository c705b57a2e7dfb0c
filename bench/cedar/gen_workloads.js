#!/usr/bin/env node
'use strict';
// Writes the Cedar benchmark workloads (issue 3 §9) as files, deterministically, so that the C++
// benchmark (bench_cedar) and the cedar-wasm peer (peer.js) run on exactly the same inputs:
//
//   <out>/<name>/policies.cedar  schema.cedarschema  entities.json  requests.jsonl
//
//   small    (a) 10 policies, 5 entities
//   large    (b) 100 policies, 1,000 entities in a 3-level hierarchy (department > team > user)
//   routing  (c) 30 routing-style policies over one Case entity with ~20 attributes
//
//   node bench/cedar/gen_workloads.js build/diff-rel/cedar-workloads

const fs = require('fs');
const path = require('path');

// mulberry32: the same seed gives the same files everywhere.
function MakeRng(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    pick(a) {
      return a[Math.floor(next() * a.length)];
    },
  };
}

const uid = (type, id) => ({type, id});
const ext = (fn, arg) => ({__extn: {fn, arg}});

// ---------------------------------------------------------------------------------------------------
// (a) 10 policies, 5 entities: a photo-sharing style RBAC/ABAC set.

function Small() {
  const rng = MakeRng(1);
  const schema = `entity Group;
entity User in [Group] { level: Long, suspended: Bool, ip: ipaddr };
entity Photo { owner: User, public: Bool, tags: Set<String> };
action view, comment, edit, delete appliesTo {
  principal: [User], resource: [Photo],
  context: { authenticated: Bool, ip: ipaddr }
};
`;
  const policies = `@id("admins-all")
permit(principal in Group::"admins", action, resource);
@id("owner-all")
permit(principal, action, resource) when { resource.owner == principal };
@id("public-view")
permit(principal, action == Action::"view", resource) when { resource.public };
@id("comment-authenticated")
permit(principal, action == Action::"comment", resource)
when { context.authenticated && resource.public && principal.level >= 2 };
@id("tagged-edit")
permit(principal, action == Action::"edit", resource)
when { resource.tags.contains("shared") && principal.level > 3 };
@id("no-suspended")
forbid(principal, action, resource) when { principal.suspended };
@id("no-delete-public")
forbid(principal, action == Action::"delete", resource) when { resource.public } unless { principal in Group::"admins" };
@id("internal-net")
permit(principal, action in [Action::"view", Action::"comment"], resource)
when { context.ip.isInRange(ip("10.0.0.0/8")) };
@id("loopback-deny")
forbid(principal, action, resource) when { context.ip.isLoopback() && !context.authenticated };
@id("private-tag")
forbid(principal, action, resource)
when { resource.tags.contains("private") && resource.owner != principal } unless { principal in Group::"admins" };
`;
  const entities = [
    {uid: uid('Group', 'admins'), attrs: {}, parents: []},
    {uid: uid('User', 'alice'), attrs: {level: 5, suspended: false, ip: ext('ip', '10.1.2.3')},
      parents: [uid('Group', 'admins')]},
    {uid: uid('User', 'bob'), attrs: {level: 2, suspended: false, ip: ext('ip', '192.168.0.7')}, parents: []},
    {uid: uid('Photo', 'beach'), attrs: {owner: {__entity: uid('User', 'bob')}, public: true,
      tags: ['holiday', 'shared']}, parents: []},
    {uid: uid('Photo', 'diary'), attrs: {owner: {__entity: uid('User', 'alice')}, public: false,
      tags: ['private']}, parents: []},
  ];
  const requests = [];
  for (let i = 0; i < 64; ++i) {
    requests.push({
      principal: uid('User', rng.pick(['alice', 'bob', 'bob', 'carol'])),
      action: uid('Action', rng.pick(['view', 'comment', 'edit', 'delete'])),
      resource: uid('Photo', rng.pick(['beach', 'diary'])),
      context: {authenticated: rng.chance(0.8),
        ip: ext('ip', rng.pick(['10.0.0.5', '127.0.0.1', '203.0.113.9', '192.168.0.7']))},
    });
  }
  return {schema, policies, entities, requests};
}

// ---------------------------------------------------------------------------------------------------
// (b) 100 policies, 1,000 entities: 10 departments > 90 teams > 800 users, plus 100 documents owned
// by teams.

function Large() {
  const rng = MakeRng(2);
  const schema = `entity Department;
entity Team in [Department] { budget: Long };
entity User in [Team] { level: Long, clearance: Long, contractor: Bool, region: String };
entity Document in [Team] { classification: Long, region: String, archived: Bool, owner: User };
action read, write, share, archive appliesTo {
  principal: [User], resource: [Document],
  context: { mfa: Bool, hour: Long }
};
`;
  const departments = [];
  const teams = [];
  const users = [];
  const docs = [];
  const entities = [];
  const regions = ['eu', 'us', 'apac'];
  for (let d = 0; d < 10; ++d) {
    departments.push(`dept-${d}`);
    entities.push({uid: uid('Department', `dept-${d}`), attrs: {}, parents: []});
  }
  for (let t = 0; t < 90; ++t) {
    teams.push(`team-${t}`);
    entities.push({uid: uid('Team', `team-${t}`), attrs: {budget: 1000 * (1 + rng.int(100))},
      parents: [uid('Department', departments[t % 10])]});
  }
  const members = new Map();  // team -> users
  for (let u = 0; u < 800; ++u) {
    users.push(`user-${u}`);
    const parents = [uid('Team', teams[rng.int(90)])];
    if (rng.chance(0.2)) parents.push(uid('Team', teams[rng.int(90)]));
    if (parents.length === 2 && parents[0].id === parents[1].id) parents.pop();
    for (const t of parents) members.set(t.id, (members.get(t.id) || []).concat([`user-${u}`]));
    entities.push({uid: uid('User', `user-${u}`), attrs: {level: rng.int(10), clearance: rng.int(5),
      contractor: rng.chance(0.15), region: rng.pick(regions)}, parents});
  }
  const docTeam = [];
  for (let i = 0; i < 100; ++i) {
    docs.push(`doc-${i}`);
    // Documents belong to teams that some team policy names, so that requests can be allowed.
    const team = teams[(rng.int(60) * 7) % 90];
    docTeam.push(team);
    entities.push({uid: uid('Document', `doc-${i}`), attrs: {classification: rng.int(5),
      region: rng.pick(regions), archived: rng.chance(0.1),
      owner: {__entity: uid('User', users[rng.int(800)])}},
    parents: [uid('Team', team)]});
  }
  const lines = [];
  // 60 team policies, 20 department policies, 10 attribute policies, 10 forbids.
  for (let i = 0; i < 60; ++i) {
    const t = teams[(i * 7) % 90];
    const acts = rng.pick(['[Action::"read"]', '[Action::"read", Action::"write"]',
      '[Action::"read", Action::"share"]']);
    lines.push(`@id("team-${i}")\npermit(principal in Team::"${t}", action in ${acts}, resource in Team::"${t}")` +
      ` when { principal.clearance >= resource.classification };`);
  }
  for (let i = 0; i < 20; ++i) {
    const d = departments[i % 10];
    lines.push(`@id("dept-${i}")\npermit(principal in Department::"${d}", action == Action::"read", ` +
      `resource in Department::"${d}") when { principal.level >= ${2 + (i % 5)} && context.mfa };`);
  }
  for (let i = 0; i < 10; ++i) {
    lines.push(`@id("attr-${i}")\npermit(principal, action in [Action::"write", Action::"archive"], resource) ` +
      `when { resource.owner == principal && resource.region == principal.region && ` +
      `context.hour >= ${i} && context.hour < ${12 + i} };`);
  }
  for (let i = 0; i < 10; ++i) {
    const body = [
      'principal.contractor && resource.classification >= 3',
      'resource.archived && action != Action::"read"',
      'principal.clearance < resource.classification',
      `principal in Team::"${teams[i * 9]}" && action == Action::"share"`,
      'context.hour < 6 || context.hour > 22',
    ][i % 5];
    lines.push(`@id("forbid-${i}")\nforbid(principal, action, resource) when { ${body} };`);
  }
  const requests = [];
  for (let i = 0; i < 256; ++i) {
    const d = rng.int(100);
    const teamMembers = members.get(docTeam[d]) || [];
    const user = teamMembers.length > 0 && rng.chance(0.6) ? rng.pick(teamMembers) : users[rng.int(800)];
    requests.push({
      principal: uid('User', user),
      action: uid('Action', rng.pick(['read', 'read', 'write', 'share', 'archive'])),
      resource: uid('Document', docs[d]),
      context: {mfa: rng.chance(0.7), hour: rng.int(24)},
    });
  }
  return {schema, policies: lines.join('\n') + '\n', entities, requests};
}

// ---------------------------------------------------------------------------------------------------
// (c) Routing: 30 policies over one Case entity with 20 attributes (decimals, sets, records,
// datetimes), as Arbiter's routing evaluates them: which agent may take which action on a case.

function Routing() {
  const rng = MakeRng(3);
  const schema = `entity Queue;
entity Agent in [Queue] { kind: String, languages: Set<String>, max_amount: decimal, tier: Long };
type Customer = { tier: String, region: String, vip: Bool, arr: decimal };
type Sla = { first_response: duration, breached: Bool };
entity Case {
  priority: Long, severity: String, channel: String, language: String, queue: String,
  sentiment: decimal, confidence: decimal, amount: decimal, risk: decimal,
  tags: Set<String>, intents: Set<String>, products: Set<String>,
  customer: Customer, sla: Sla, created: datetime,
  reopen_count: Long, has_attachment: Bool, pii: Bool, age_minutes: Long, source_ip: ipaddr
};
action auto_reply, auto_refund, draft_reply, escalate, close, assign, tag, request_info
  appliesTo { principal: [Agent], resource: [Case], context: { now: datetime, confidence: decimal, human_online: Bool } };
`;
  const policies = `@id("bot-reply-low-risk")
permit(principal is Agent, action == Action::"auto_reply", resource)
when { principal.kind == "bot" && resource.confidence.greaterThanOrEqual(decimal("0.85")) &&
       resource.risk.lessThan(decimal("0.3")) && principal.languages.contains(resource.language) };
@id("bot-refund-small")
permit(principal is Agent, action == Action::"auto_refund", resource)
when { principal.kind == "bot" && resource.intents.contains("refund") &&
       resource.amount.lessThanOrEqual(principal.max_amount) && !resource.pii };
@id("human-anything")
permit(principal in Queue::"humans", action, resource);
@id("draft-always")
permit(principal is Agent, action == Action::"draft_reply", resource) when { principal.tier >= 1 };
@id("tag-always")
permit(principal, action == Action::"tag", resource);
@id("request-info")
permit(principal, action == Action::"request_info", resource)
when { resource.has_attachment || resource.intents.containsAny(["unclear", "missing_info"]) };
@id("escalate-negative")
permit(principal, action == Action::"escalate", resource)
when { resource.sentiment.lessThan(decimal("-0.5")) || resource.priority >= 3 };
@id("escalate-vip")
permit(principal, action == Action::"escalate", resource) when { resource.customer.vip };
@id("close-resolved")
permit(principal, action == Action::"close", resource)
when { resource.tags.contains("resolved") && resource.reopen_count < 2 };
@id("assign-queue")
permit(principal, action == Action::"assign", resource)
when { resource.queue == "billing" || resource.queue == "technical" || resource.queue == "general" };
@id("enterprise-reply")
permit(principal, action == Action::"auto_reply", resource)
when { resource.customer.tier == "enterprise" && context.confidence.greaterThan(decimal("0.95")) };
@id("eu-language")
permit(principal, action == Action::"draft_reply", resource)
when { resource.customer.region == "eu" && ["de", "fr", "es", "it", "en"].contains(resource.language) };
@id("products-known")
permit(principal, action == Action::"tag", resource) when { resource.products.containsAll(["core"]) };
@id("recent-case")
permit(principal, action == Action::"auto_reply", resource)
when { context.now.durationSince(resource.created) < duration("1h") && resource.severity == "low" };
@id("sla-escalate")
permit(principal, action == Action::"escalate", resource) when { resource.sla.breached };
@id("high-arr")
permit(principal in Queue::"humans", action == Action::"assign", resource)
when { resource.customer.arr.greaterThanOrEqual(decimal("100000.0")) };
@id("internal-source")
permit(principal, action == Action::"auto_reply", resource)
when { resource.source_ip.isInRange(ip("10.0.0.0/8")) && resource.channel == "internal" };
@id("like-subject")
permit(principal, action == Action::"tag", resource) when { resource.queue like "bill*" };
@id("tier-refund")
permit(principal, action == Action::"auto_refund", resource)
when { resource.customer has tier && resource.customer.tier == "premium" && resource.amount.lessThan(decimal("50.0")) };
@id("old-case")
permit(principal, action == Action::"escalate", resource) when { resource.age_minutes > 1440 };
@id("no-bot-on-pii")
forbid(principal is Agent, action in [Action::"auto_reply", Action::"auto_refund"], resource)
when { principal.kind == "bot" && resource.pii };
@id("no-bot-legal")
forbid(principal, action in [Action::"auto_reply", Action::"auto_refund", Action::"close"], resource)
when { resource.intents.containsAny(["legal", "lawsuit", "gdpr_request"]) } unless { principal in Queue::"humans" };
@id("no-bot-angry")
forbid(principal, action == Action::"auto_reply", resource)
when { resource.sentiment.lessThan(decimal("-0.8")) && principal.kind == "bot" };
@id("no-refund-large")
forbid(principal, action == Action::"auto_refund", resource)
when { resource.amount.greaterThan(decimal("500.0")) };
@id("no-close-critical")
forbid(principal, action == Action::"close", resource) when { resource.severity == "critical" };
@id("no-auto-low-confidence")
forbid(principal, action in [Action::"auto_reply", Action::"auto_refund"], resource)
when { context.confidence.lessThan(decimal("0.6")) };
@id("human-online-prefers-human")
forbid(principal, action == Action::"auto_refund", resource)
when { context.human_online && resource.customer.vip };
@id("no-reopen-loop")
forbid(principal, action == Action::"close", resource) when { resource.reopen_count >= 3 };
@id("risk-hold")
forbid(principal, action in [Action::"auto_refund", Action::"close"], resource)
when { resource.risk.greaterThanOrEqual(decimal("0.9")) };
@id("tier-guard")
forbid(principal is Agent, action == Action::"assign", resource) when { principal.tier < 1 };
`;
  const entities = [
    {uid: uid('Queue', 'humans'), attrs: {}, parents: []},
    {uid: uid('Queue', 'bots'), attrs: {}, parents: []},
    {uid: uid('Agent', 'triage-bot'), attrs: {kind: 'bot', languages: ['en', 'de', 'fr'],
      max_amount: ext('decimal', '100.0'), tier: 1}, parents: [uid('Queue', 'bots')]},
    {uid: uid('Agent', 'refund-bot'), attrs: {kind: 'bot', languages: ['en'],
      max_amount: ext('decimal', '250.0'), tier: 2}, parents: [uid('Queue', 'bots')]},
    {uid: uid('Agent', 'maria'), attrs: {kind: 'human', languages: ['en', 'es'],
      max_amount: ext('decimal', '10000.0'), tier: 3}, parents: [uid('Queue', 'humans')]},
    {uid: uid('Case', 'c-1042'), parents: [], attrs: {
      priority: 2, severity: 'medium', channel: 'email', language: 'en', queue: 'billing',
      sentiment: ext('decimal', '-0.35'), confidence: ext('decimal', '0.91'),
      amount: ext('decimal', '42.50'), risk: ext('decimal', '0.12'),
      tags: ['billing', 'refund', 'first-contact'], intents: ['refund', 'invoice_question'],
      products: ['core', 'payments'],
      customer: {tier: 'premium', region: 'eu', vip: false, arr: ext('decimal', '24000.0')},
      sla: {first_response: ext('duration', '4h'), breached: false},
      created: ext('datetime', '2026-11-26T22:10:00Z'),
      reopen_count: 0, has_attachment: true, pii: false, age_minutes: 95,
      source_ip: ext('ip', '10.20.30.40')}},
  ];
  const actions = ['auto_reply', 'auto_refund', 'draft_reply', 'escalate', 'close', 'assign', 'tag',
    'request_info'];
  const requests = [];
  for (let i = 0; i < 128; ++i) {
    requests.push({
      principal: uid('Agent', rng.pick(['triage-bot', 'refund-bot', 'maria'])),
      action: uid('Action', actions[i % actions.length]),
      resource: uid('Case', 'c-1042'),
      context: {now: ext('datetime', rng.pick(['2026-11-26T22:30:00Z', '2026-11-27T01:00:00Z'])),
        confidence: ext('decimal', rng.pick(['0.55', '0.91', '0.97'])),
        human_online: rng.chance(0.5)},
    });
  }
  return {schema, policies, entities, requests};
}

function Write(out, name, w) {
  const dir = path.join(out, name);
  fs.mkdirSync(dir, {recursive: true});
  fs.writeFileSync(path.join(dir, 'schema.cedarschema'), w.schema);
  fs.writeFileSync(path.join(dir, 'policies.cedar'), w.policies);
  fs.writeFileSync(path.join(dir, 'entities.json'), JSON.stringify(w.entities, null, 1) + '\n');
  fs.writeFileSync(path.join(dir, 'requests.jsonl'), w.requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const nPolicies = (w.policies.match(/^(permit|forbid)\(/gm) || []).length;
  console.log(`${name}: ${nPolicies} policies, ${w.entities.length} entities, ${w.requests.length} requests -> ${dir}`);
}

function Main() {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write('usage: gen_workloads.js OUT_DIR\n');
    process.exit(1);
  }
  Write(out, 'small', Small());
  Write(out, 'large', Large());
  Write(out, 'routing', Routing());
}

module.exports = {Small, Large, Routing};
if (require.main === module) Main();
