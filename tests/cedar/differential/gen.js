'use strict';
// Seeded generator of random Cedar inputs for differential testing against cedar-wasm.
//
// GenerateCase(seed) returns one self-contained case: a policy set (text plus the ids the policies get),
// an entity list (Cedar JSON entity format), an optional schema (Cedar human format) and a list of
// requests. The same seed always yields the same case, byte for byte, on every machine.
//
// Coverage, by design: every binary and unary operator with Cedar's precedence (parentheses only where
// the grammar needs them, plus a few redundant ones), `has` (single attributes, attribute paths and string
// attribute names), `like` with `*` and `\*`, `in` on entities and sets, `is` and `is … in`,
// if-then-else, set and record literals, every constructor and method of decimal, ipaddr, datetime and
// duration (with well-formed and malformed arguments), entity tags, every scope form, when/unless,
// annotations with and without values, `@id` ids, string escapes. Errors are provoked on purpose: integer
// overflow, missing attributes and tags, type errors, entities absent from the store, bad extension
// arguments, extension arithmetic overflow. Integers stay within ±2^53 wherever they pass through JSON.

// ---------------------------------------------------------------------------------------------------
// Random numbers: mulberry32, seeded with a 32-bit integer.

class Rng {
  constructor(seed) {
    this.state = seed >>> 0;
  }
  next() {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n) {  // [0, n)
    return Math.floor(this.next() * n);
  }
  chance(p) {
    return this.next() < p;
  }
  pick(array) {
    return array[this.int(array.length)];
  }
  // pairs: [[weight, value], ...]
  weighted(pairs) {
    let total = 0;
    for (const [w] of pairs) total += w;
    let x = this.next() * total;
    for (const [w, v] of pairs) {
      if (x < w) return v;
      x -= w;
    }
    return pairs[pairs.length - 1][1];
  }
  subset(array, max) {
    const n = this.int(max + 1);
    const out = [];
    for (let i = 0; i < n; ++i) out.push(this.pick(array));
    return out;
  }
}

// Mixes a run seed and a case index into a case seed (splitmix-style).
function CaseSeed(seed, index) {
  let h = (seed >>> 0) ^ Math.imul(index + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// ---------------------------------------------------------------------------------------------------
// Value pools. Longs within ±2^53; products of pairs of them overflow int64.

const kLongs = [0, 1, -1, 2, 3, 5, 7, 10, 42, 100, -100, 1000, 65536, 2147483647, -2147483648,
  4294967296, 3037000499, 3037000500, -3037000500, 9007199254740991, -9007199254740991,
  4503599627370496];
const kDecimalOk = ['0.0', '1.5', '-1.5', '12.3456', '922337203685477.5807', '-922337203685477.5808',
  '0.0001', '3.14', '100.0', '-0.0', '007.10'];
const kDecimalBad = ['1', '1.23456', 'abc', '1.', '.5', '922337203685477.5808', '1e3', '', ' 1.0',
  '-922337203685477.5809', '+1.0'];
const kIpOk = ['127.0.0.1', '10.0.0.1', '10.0.0.0/8', '192.168.1.0/24', '0.0.0.0', '255.255.255.255',
  '224.0.0.1', '::1', '::', 'ff02::1', '2001:db8::/32', '2001:db8::1', 'fe80::1/64',
  '127.0.0.0/8', '1.2.3.4/32', '::1/128', '10.1.2.3/0', '127.5.5.5',
  '239.255.255.255', 'ff00::/8', '::ffff:7f00:1', 'ff02::1/16'];
const kIpBad = ['1.2.3', '1.2.3.256', '10.0.0.0/33', '::1/129', '01.2.3.4', 'fe80::1%eth0', '',
  '1.2.3.4/', 'abc', '1.2.3.4/-1', '::1::', '1.2.3.4/08', ' 1.2.3.4', '::ffff:192.168.0.1',
  '::ffff:127.0.0.1'];
const kDatetimeOk = ['2024-10-15', '2024-10-15T11:35:00Z', '2024-10-15T11:35:00.123Z',
  '2024-10-15T11:35:00+0100', '2024-10-15T11:35:00.001-0230', '1970-01-01', '2000-02-29',
  '0001-01-01', '9999-12-31T23:59:59.999Z', '1969-12-31T23:59:59Z', '2024-10-15T00:00:00Z',
  '2024-10-15T23:59:59-2359'];
const kDatetimeBad = ['2024-13-01', '2024-02-30', '2023-02-29', '2024-10-15T25:00:00Z',
  '2024-10-15T11:35:00', '2024-1-5', '2024-10-15 11:35:00Z', '2024-10-15T11:35:00.12Z',
  '2024-10-15T11:35:00+01:00', '', '2024-10-15T11:35:60Z', '10000-01-01', '2024-10-15T11:35:00+2400'];
const kDurationOk = ['1d', '1h', '-1h', '1d2h3m4s5ms', '0ms', '90m', '-2d12h', '1000ms', '365d',
  '9223372036854775807ms', '-9223372036854775808ms', '106751991167d', '2h30m', '59s', '-1ms',
  '1d1ms'];
const kDurationBad = ['1h1d', '1.5h', '', 'd', '1x', '1d-2h', '--1d', '1 d', '106751991168d',
  '9223372036854775808ms', '1D', '+1h', '1h1h'];
const kStrings = ['', 'a', 'ab', 'abc', 'ba', 'a*b', 'alice', 'Alice', 'zoë', 'x\ny', 'tab\there',
  'quote"q', "it's", 'back\\slash', '**', 'a b', 'é', '\u0000nul', 'admin', 'k', 'kind'];

// ---------------------------------------------------------------------------------------------------
// Cedar text helpers.

function CedarString(rng, s, pattern) {
  // s: a string, or for patterns an array of {wild: true} | {chars: string}.
  let out = '"';
  const emit = (ch, inPattern) => {
    const code = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += rng.chance(0.5) ? '\\n' : '\\u{a}';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code === 0) out += '\\0';
    else if (ch === "'") out += rng.chance(0.5) ? "\\'" : "'";
    else if (ch === '*' && inPattern) out += '\\*';
    else if (code > 0x7e) out += rng.chance(0.5) ? `\\u{${code.toString(16)}}` : ch;
    else if (rng.chance(0.03)) out += `\\u{${code.toString(16)}}`;
    else out += ch;
  };
  if (pattern) {
    for (const part of s) {
      if (part.wild) out += '*';
      else for (const ch of part.chars) emit(ch, true);
    }
  } else {
    for (const ch of s) emit(ch, false);
  }
  return out + '"';
}

// Precedence levels of Cedar's grammar: 0 if-then-else, 1 ||, 2 &&, 3 relations/has/like/is,
// 4 + -, 5 *, 6 unary, 7 member access and primaries.
function N(text, prec, extra) {
  return Object.assign({text, prec}, extra || {});
}

class Printer {
  constructor(rng) {
    this.rng = rng;
  }
  wrap(node, min) {
    if (node.prec < min || (this.rng.chance(0.03) && node.prec < 7)) return `(${node.text})`;
    return node.text;
  }
  member(node) {  // operand of `.attr`, `[..]`, `.method()`
    if (node.prec < 7 || node.intLiteral) return `(${node.text})`;
    return node.text;
  }
  or(a, b) {
    return N(`${this.wrap(a, 1)} || ${this.wrap(b, 2)}`, 1);
  }
  and(a, b) {
    return N(`${this.wrap(a, 2)} && ${this.wrap(b, 3)}`, 2);
  }
  rel(op, a, b) {
    return N(`${this.wrap(a, 4)} ${op} ${this.wrap(b, 4)}`, 3);
  }
  add(op, a, b) {
    return N(`${this.wrap(a, 4)} ${op} ${this.wrap(b, 5)}`, 4);
  }
  mul(a, b) {
    return N(`${this.wrap(a, 5)} * ${this.wrap(b, 6)}`, 5);
  }
  unary(op, a) {
    return N(`${op}${this.wrap(a, 7)}`, 6);
  }
  ite(c, t, e) {
    return N(`if ${c.text} then ${t.text} else ${e.text}`, 0);
  }
  dot(a, attr) {
    return N(`${this.member(a)}.${attr}`, 7);
  }
  index(a, attr) {
    return N(`${this.member(a)}[${CedarString(this.rng, attr)}]`, 7);
  }
  call(a, method, args) {
    return N(`${this.member(a)}.${method}(${args.map((x) => x.text).join(', ')})`, 7);
  }
  has(a, path) {  // path: array of attribute names
    const simple = path.every((p) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) && !kReserved.has(p));
    if (path.length === 1 && (!simple || this.rng.chance(0.2))) {
      return N(`${this.wrap(a, 4)} has ${CedarString(this.rng, path[0])}`, 3);
    }
    if (!simple) return N(`${this.wrap(a, 4)} has ${CedarString(this.rng, path[0])}`, 3);
    return N(`${this.wrap(a, 4)} has ${path.join('.')}`, 3);
  }
}

const kReserved = new Set(['true', 'false', 'if', 'then', 'else', 'in', 'is', 'like', 'has',
  'principal', 'action', 'resource', 'context', '__cedar']);

function Lit(text) {
  return N(text, 7);
}
function LongLit(v) {
  return v < 0 ? N(String(v), 6) : N(String(v), 7, {intLiteral: true});
}
function EntityRef(rng, uid) {
  return Lit(`${uid.type}::${CedarString(rng, uid.id)}`);
}

// ---------------------------------------------------------------------------------------------------
// The vocabulary: entity types, attributes with their intended types, entity ids.

// Attribute name -> intended type. Entities (and, in schema mode, the schema) follow these types;
// without a schema, 10% of attribute values get a different type so that policies meet type errors.
const kEntityAttrs = {
  User: {name: 'string', age: 'long', level: 'long', email: 'string', tags: 'setString', ip: 'ipaddr',
    score: 'decimal', joined: 'datetime', session: 'duration', addr: 'addr', manager: 'entity',
    active: 'bool', 'full name': 'string'},
  Group: {name: 'string', level: 'long'},
  Folder: {name: 'string', level: 'long'},
  Doc: {owner: 'entity', size: 'long', title: 'string', public: 'bool', labels: 'setString',
    nums: 'setLong', created: 'datetime', ttl: 'duration', price: 'decimal', net: 'ipaddr',
    meta: 'meta', color: 'color'},
  'NS::Thing': {name: 'string', size: 'long', level: 'long', owner: 'entity'},
};
const kOptionalAttrs = new Set(['level', 'email', 'manager', 'full name']);
const kContextAttrs = {ip: 'ipaddr', now: 'datetime', n: 'long', flag: 'bool', s: 'string',
  items: 'setLong', rec: 'rec', opt: 'long', who: 'entity', price: 'decimal', d: 'duration'};

const kIds = {
  User: ['alice', 'bob', 'carol', 'dave', 'zoë', 'o"malley'],
  Group: ['admins', 'staff', 'all', 'a b'],
  Folder: ['root', 'f1', 'f2'],
  Doc: ['d1', 'd2', 'd3', 'd4', 'secret'],
  'NS::Thing': ['t1', 't2'],
  Color: ['red', 'green', 'blue'],
};
const kActions = ['view', 'list', 'edit', 'delete', 'read', 'write'];
const kActionParents = {view: ['read'], list: ['read'], edit: ['write'], delete: ['write']};

const kSchema = `// Differential-test schema.
type Addr = { street: String, zip?: Long };
entity Group in [Group] { name: String, level?: Long };
entity User in [Group] {
  name: String, age: Long, level?: Long, email?: String, tags: Set<String>, ip: ipaddr,
  score: decimal, joined: datetime, session: duration, addr: Addr, manager?: User, active: Bool,
  "full name"?: String
};
entity Folder in [Folder] { name: String, level?: Long };
entity Color enum ["red", "green", "blue"];
entity Doc in [Folder] {
  owner: User, size: Long, title: String, public: Bool, labels: Set<String>, nums: Set<Long>,
  created: datetime, ttl: duration, price: decimal, net: ipaddr,
  meta: { kind: String, rank?: Long, inner: { flag: Bool } }, color: Color
} tags Long;
type Ctx = {
  ip: ipaddr, now: datetime, n: Long, flag: Bool, s: String, items: Set<Long>,
  rec: { a: Long, b?: String }, opt?: Long, who: User, price: decimal, d: duration
};
action read, write;
action view, list in [read] appliesTo { principal: [User], resource: [Doc, Folder], context: Ctx };
action edit, delete in [write] appliesTo { principal: [User], resource: [Doc], context: Ctx };
`;

// ---------------------------------------------------------------------------------------------------
// JSON values for entity attributes and contexts.

function JsonExtn(rng, fn, arg, schemaMode) {
  if (schemaMode && rng.chance(0.5)) return arg;  // schema-based parsing turns the string into fn(arg)
  return rng.chance(0.5) ? {__extn: {fn, arg}} : {__extn: {fn, args: [arg]}};
}
function JsonEntity(rng, uid, schemaMode) {
  if (schemaMode && rng.chance(0.3)) return {type: uid.type, id: uid.id};
  return {__entity: {type: uid.type, id: uid.id}};
}
function RandomUid(rng, types) {
  const type = rng.pick(types);
  return {type, id: rng.chance(0.05) ? 'ghost' : rng.pick(kIds[type])};
}

function JsonValue(rng, type, schemaMode, depth = 0) {
  switch (type) {
    case 'long': return rng.pick(kLongs);
    case 'string': return rng.pick(kStrings);
    case 'bool': return rng.chance(0.5);
    case 'setString': return rng.subset(kStrings, 3);
    case 'setLong': return rng.subset(kLongs, 4);
    case 'ipaddr': return JsonExtn(rng, 'ip', rng.pick(kIpOk), schemaMode);
    case 'decimal': return JsonExtn(rng, 'decimal', rng.pick(kDecimalOk), schemaMode);
    case 'datetime': return JsonExtn(rng, 'datetime', rng.pick(kDatetimeOk), schemaMode);
    case 'duration': return JsonExtn(rng, 'duration', rng.pick(kDurationOk), schemaMode);
    case 'entity': return JsonEntity(rng, RandomUid(rng, ['User']), schemaMode);
    case 'color': return JsonEntity(rng, {type: 'Color', id: rng.pick(kIds.Color)}, schemaMode);
    case 'addr': {
      const r = {street: rng.pick(kStrings)};
      if (rng.chance(0.6)) r.zip = rng.pick(kLongs);
      return r;
    }
    case 'meta': {
      const r = {kind: rng.pick(kStrings), inner: {flag: rng.chance(0.5)}};
      if (rng.chance(0.6)) r.rank = rng.pick(kLongs);
      return r;
    }
    case 'rec': {
      const r = {a: rng.pick(kLongs)};
      if (rng.chance(0.6)) r.b = rng.pick(kStrings);
      return r;
    }
    case 'any': {
      const t = rng.pick(depth > 1 ? ['long', 'string', 'bool', 'decimal', 'entity'] :
        ['long', 'string', 'bool', 'setString', 'setLong', 'ipaddr', 'decimal', 'datetime',
          'duration', 'entity', 'addr', 'mixedSet']);
      return JsonValue(rng, t, schemaMode, depth + 1);
    }
    case 'mixedSet': {
      const n = rng.int(4);
      const out = [];
      for (let i = 0; i < n; ++i) out.push(JsonValue(rng, 'any', schemaMode, depth + 1));
      return out;
    }
    default: throw new Error(`unknown json type ${type}`);
  }
}

// Without a schema: most attributes present with their intended type, some missing, some mistyped.
function FreeAttrs(rng, attrs) {
  const out = {};
  for (const [name, type] of Object.entries(attrs)) {
    if (rng.chance(0.15)) continue;
    out[name] = rng.chance(0.1) ? JsonValue(rng, 'any', false) : JsonValue(rng, type, false);
  }
  return out;
}

// With the schema: every required attribute, optional ones sometimes, types exactly as declared.
function SchemaAttrs(rng, attrs) {
  const out = {};
  for (const [name, type] of Object.entries(attrs)) {
    if (kOptionalAttrs.has(name) && rng.chance(0.4)) continue;
    out[name] = JsonValue(rng, type, true);
  }
  return out;
}

function GenerateEntities(rng, schemaMode) {
  const entities = [];
  // Parents point to entities that come earlier in a fixed order, so the hierarchy is a DAG.
  const groupIds = kIds.Group;
  for (let i = 0; i < groupIds.length; ++i) {
    const parents = [];
    for (let j = 0; j < i; ++j) if (rng.chance(0.35)) parents.push({type: 'Group', id: groupIds[j]});
    const attrs = schemaMode ? SchemaAttrs(rng, kEntityAttrs.Group) : FreeAttrs(rng, kEntityAttrs.Group);
    entities.push({uid: {type: 'Group', id: groupIds[i]}, attrs, parents});
  }
  const folderIds = kIds.Folder;
  for (let i = 0; i < folderIds.length; ++i) {
    const parents = [];
    for (let j = 0; j < i; ++j) if (rng.chance(0.5)) parents.push({type: 'Folder', id: folderIds[j]});
    const attrs = schemaMode ? SchemaAttrs(rng, kEntityAttrs.Folder) :
      FreeAttrs(rng, kEntityAttrs.Folder);
    entities.push({uid: {type: 'Folder', id: folderIds[i]}, attrs, parents});
  }
  for (const id of kIds.User) {
    if (rng.chance(0.1)) continue;  // absent from the store
    const parents = rng.subset(groupIds, 2).map((g) => ({type: 'Group', id: g}));
    if (!schemaMode && rng.chance(0.1)) parents.push({type: 'Folder', id: 'root'});
    const attrs = schemaMode ? SchemaAttrs(rng, kEntityAttrs.User) : FreeAttrs(rng, kEntityAttrs.User);
    entities.push({uid: {type: 'User', id}, attrs, parents: Dedupe(parents)});
  }
  for (const id of kIds.Doc) {
    if (rng.chance(0.1)) continue;
    const parents = rng.subset(folderIds, 2).map((f) => ({type: 'Folder', id: f}));
    const attrs = schemaMode ? SchemaAttrs(rng, kEntityAttrs.Doc) : FreeAttrs(rng, kEntityAttrs.Doc);
    const tags = {};
    for (const k of ['k', 'kind', 'a', 'level']) {
      if (rng.chance(0.5)) tags[k] = schemaMode ? rng.pick(kLongs) : JsonValue(rng, 'any', false);
    }
    const e = {uid: {type: 'Doc', id}, attrs, parents: Dedupe(parents)};
    if (Object.keys(tags).length > 0 || rng.chance(0.5)) e.tags = tags;
    entities.push(e);
  }
  if (!schemaMode) {
    for (const id of kIds['NS::Thing']) {
      const parents = rng.chance(0.5) ? [{type: 'Group', id: rng.pick(groupIds)}] : [];
      entities.push({uid: {type: 'NS::Thing', id}, attrs: FreeAttrs(rng, kEntityAttrs['NS::Thing']),
        parents});
    }
    // Action entities and action groups come from the schema in schema mode, from the data otherwise.
    for (const a of kActions) {
      const parents = (kActionParents[a] || []).map((p) => ({type: 'Action', id: p}));
      entities.push({uid: {type: 'Action', id: a}, attrs: {}, parents});
    }
  }
  return entities;
}

function Dedupe(uids) {
  const seen = new Set();
  return uids.filter((u) => {
    const k = `${u.type}::${u.id}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------------
// Expressions. Each generator returns a printed node of (mostly) the requested type; with a small
// probability it returns something of another type, to provoke type errors.

class ExprGen {
  constructor(rng, schemaMode) {
    this.rng = rng;
    this.p = new Printer(rng);
    this.schemaMode = schemaMode;
  }

  gen(type, depth) {
    const rng = this.rng;
    if (depth > 0 && rng.chance(0.04)) {
      type = rng.pick(['bool', 'long', 'string', 'entity', 'set', 'record', 'decimal', 'ipaddr',
        'datetime', 'duration']);
    }
    if (depth > 0 && rng.chance(0.08)) {
      return this.p.ite(this.gen('bool', depth - 1), this.gen(type, depth - 1), this.gen(type, depth - 1));
    }
    switch (type) {
      case 'bool': return this.bool(depth);
      case 'long': return this.long(depth);
      case 'string': return this.string(depth);
      case 'entity': return this.entity(depth);
      case 'set': return this.set(depth);
      case 'record': return this.record(depth);
      case 'decimal': return this.decimal(depth);
      case 'ipaddr': return this.ipaddr(depth);
      case 'datetime': return this.datetime(depth);
      case 'duration': return this.duration(depth);
      default: throw new Error(`unknown expression type ${type}`);
    }
  }

  // An attribute access producing a value whose intended type is `type`.
  attrOf(type) {
    const rng = this.rng;
    const options = [];
    for (const [ent, attrs] of [['principal', kEntityAttrs.User], ['resource', kEntityAttrs.Doc]]) {
      for (const [name, t] of Object.entries(attrs)) if (t === type) options.push([ent, name]);
    }
    for (const [name, t] of Object.entries(kContextAttrs)) if (t === type) options.push(['context', name]);
    if (options.length === 0) return null;
    const [base, name] = rng.pick(options);
    let baseNode = Lit(base);
    if (base === 'resource' && rng.chance(0.1)) {
      baseNode = this.p.dot(Lit('principal'), 'manager');  // wrong entity type on purpose
    } else if (base === 'principal' && rng.chance(0.1)) {
      baseNode = this.p.dot(Lit('resource'), 'owner');
    }
    const access = /^[a-z]+$/.test(name) && rng.chance(0.85) ? this.p.dot(baseNode, name) :
      this.p.index(baseNode, name);
    return access;
  }

  bool(depth) {
    const rng = this.rng;
    const p = this.p;
    if (depth <= 0) {
      return rng.weighted([
        [2, () => Lit(rng.chance(0.5) ? 'true' : 'false')],
        [2, () => this.attrOf('bool')],
        [2, () => this.hasExpr()],
        [1, () => p.rel(rng.pick(['==', 'in']), Lit('principal'),
          EntityRef(rng, RandomUid(rng, ['User', 'Group'])))],
        [1, () => p.rel('in', Lit('resource'), EntityRef(rng, RandomUid(rng, ['Folder', 'Doc'])))],
        [1, () => N(`${p.wrap(Lit(rng.pick(['principal', 'resource'])), 4)} is ` +
          `${rng.pick(['User', 'Doc', 'Folder', 'Group', 'NS::Thing'])}`, 3)],
      ])();
    }
    const d = depth - 1;
    return rng.weighted([
      [4, () => p.and(this.bool(d), this.bool(d))],
      [4, () => p.or(this.bool(d), this.bool(d))],
      [3, () => p.unary('!', this.bool(d))],
      [6, () => p.rel(rng.pick(['<', '<=', '>', '>=']), this.long(d), this.long(d))],
      [2, () => p.rel(rng.pick(['<', '<=', '>', '>=']), ...this.samePair(rng.pick(['datetime',
        'duration', 'decimal']), d))],
      [6, () => {
        const t = rng.pick(['long', 'string', 'entity', 'bool', 'set', 'record', 'decimal', 'ipaddr',
          'datetime', 'duration']);
        const [a, b] = rng.chance(0.85) ? this.samePair(t, d) : [this.gen(t, d), this.gen(rng.pick(
          ['long', 'string', 'entity', 'bool']), d)];
        return p.rel(rng.pick(['==', '!=']), a, b);
      }],
      [5, () => this.inExpr(d)],
      [4, () => this.hasExpr()],
      [2, () => {
        const h = this.hasExpr();
        return p.and(h, this.bool(d));
      }],
      [4, () => this.likeExpr(d)],
      [3, () => this.isExpr(d)],
      [4, () => this.setMethod(d)],
      [2, () => this.tagExpr(d, 'has')],
      [4, () => this.decimalCompare(d)],
      [4, () => this.ipMethod(d)],
      [2, () => this.attrOf('bool')],
    ])();
  }

  samePair(type, d) {
    const a = this.gen(type, d);
    const b = this.rng.chance(0.2) ? Lit(a.text.startsWith('(') ? a.text : `(${a.text})`) : this.gen(type, d);
    return [a, b];
  }

  hasExpr() {
    const rng = this.rng;
    const p = this.p;
    return rng.weighted([
      [3, () => p.has(Lit('principal'), [rng.pick(Object.keys(kEntityAttrs.User).concat(['nope']))])],
      [3, () => p.has(Lit('resource'), [rng.pick(Object.keys(kEntityAttrs.Doc).concat(['nope']))])],
      [3, () => p.has(Lit('context'), [rng.pick(Object.keys(kContextAttrs).concat(['nope']))])],
      [2, () => p.has(Lit('principal'), ['addr', rng.pick(['zip', 'street', 'nope'])])],
      [2, () => p.has(Lit('resource'), ['meta', rng.pick(['rank', 'kind', 'inner'])].concat(
        rng.chance(0.3) ? ['flag'] : []))],
      [2, () => p.has(Lit('context'), ['rec', rng.pick(['a', 'b', 'c'])])],
      [1, () => p.has(this.p.dot(Lit('principal'), 'manager'), [rng.pick(['name', 'age', 'nope'])])],
      [1, () => p.has(this.record(0), [rng.pick(['a', 'b', 'b c'])])],
      [1, () => p.has(this.gen(rng.pick(['long', 'string', 'set']), 0), ['a'])],  // type error
      [1, () => p.has(EntityRef(rng, RandomUid(rng, ['User', 'Doc'])), [rng.pick(['name', 'size'])])],
    ])();
  }

  inExpr(d) {
    const rng = this.rng;
    const p = this.p;
    return rng.weighted([
      [3, () => p.rel('in', this.entity(d), this.entity(d))],
      [3, () => p.rel('in', this.entity(d), this.entitySet(d))],
      [1, () => p.rel('in', Lit('action'), EntityRef(rng, {type: 'Action', id: rng.pick(kActions)}))],
      [1, () => p.rel('in', this.gen(rng.pick(['long', 'string']), d), this.entity(d))],  // error
      [1, () => p.rel('in', this.entity(d), this.gen(rng.pick(['long', 'string', 'set']), d))],
    ])();
  }

  entitySet(d) {
    const rng = this.rng;
    const n = rng.int(4);
    const items = [];
    for (let i = 0; i < n; ++i) items.push(this.entity(Math.min(d, 0)));
    if (rng.chance(0.1)) items.push(this.long(0));
    return Lit(`[${items.map((x) => x.text).join(', ')}${rng.chance(0.1) && n > 0 ? ',' : ''}]`);
  }

  likeExpr(d) {
    const rng = this.rng;
    const parts = [];
    const n = 1 + rng.int(4);
    for (let i = 0; i < n; ++i) {
      if (rng.chance(0.35)) parts.push({wild: true});
      else parts.push({chars: rng.pick(['a', 'b', 'ab', '*', 'li', 'é', '\n', '"', '\\', 'x y', ''])});
    }
    const subject = rng.chance(0.2) ? this.gen(rng.pick(['long', 'entity']), 0) : this.string(d);
    return N(`${this.p.wrap(subject, 4)} like ${CedarString(rng, parts, true)}`, 3);
  }

  isExpr(d) {
    const rng = this.rng;
    const subject = rng.chance(0.9) ? this.entity(d) : this.long(0);
    const type = rng.pick(['User', 'Doc', 'Folder', 'Group', 'NS::Thing', 'Action', 'Color']);
    let text = `${this.p.wrap(subject, 4)} is ${type}`;
    if (rng.chance(0.4)) {
      const target = rng.chance(0.7) ? this.entity(d) : this.entitySet(d);
      text += ` in ${this.p.wrap(target, 4)}`;
    }
    return N(text, 3);
  }

  setMethod(d) {
    const rng = this.rng;
    const p = this.p;
    const s = this.set(d);
    return rng.weighted([
      [3, () => p.call(s, 'contains', [this.gen(rng.pick(['long', 'string', 'entity']), d)])],
      [2, () => p.call(s, 'containsAll', [this.set(d)])],
      [2, () => p.call(s, 'containsAny', [this.set(d)])],
      [2, () => p.call(s, 'isEmpty', [])],
      [1, () => {
        const method = rng.pick(['contains', 'containsAll', 'isEmpty']);
        return p.call(this.gen(rng.pick(['long', 'string', 'record']), 0), method,
          method === 'isEmpty' ? [] : [this.set(0)]);
      }],
    ])();
  }

  tagExpr(d, kind) {
    const rng = this.rng;
    const subject = rng.weighted([[5, Lit('resource')], [1, Lit('principal')],
      [1, () => EntityRef(rng, RandomUid(rng, ['Doc']))], [1, () => this.long(0)]]);
    const s = typeof subject === 'function' ? subject() : subject;
    const key = rng.chance(0.8) ? Lit(CedarString(rng, rng.pick(['k', 'kind', 'a', 'level', 'nope']))) :
      this.string(d);
    return this.p.call(s, kind === 'has' ? 'hasTag' : 'getTag', [key]);
  }

  decimalCompare(d) {
    const rng = this.rng;
    const method = rng.pick(['lessThan', 'lessThanOrEqual', 'greaterThan', 'greaterThanOrEqual']);
    return this.p.call(this.decimal(d), method, [this.decimal(d)]);
  }

  ipMethod(d) {
    const rng = this.rng;
    const method = rng.pick(['isIpv4', 'isIpv6', 'isLoopback', 'isMulticast', 'isInRange', 'isInRange']);
    return this.p.call(this.ipaddr(d), method, method === 'isInRange' ? [this.ipaddr(d)] : []);
  }

  long(depth) {
    const rng = this.rng;
    const p = this.p;
    if (depth <= 0) {
      return rng.weighted([
        [4, () => LongLit(rng.pick(kLongs))],
        [4, () => this.attrOf('long')],
        [1, () => p.dot(p.dot(Lit('principal'), 'addr'), 'zip')],
        [1, () => p.dot(p.dot(Lit('resource'), 'meta'), 'rank')],
        [1, () => p.dot(p.dot(Lit('context'), 'rec'), 'a')],
        [1, () => this.tagExpr(0, 'get')],
      ])();
    }
    const d = depth - 1;
    return rng.weighted([
      [3, () => this.long(0)],
      [4, () => p.add(rng.pick(['+', '-']), this.long(d), this.long(d))],
      [3, () => p.mul(this.long(d), this.long(d))],
      [2, () => p.unary('-', this.long(d))],
      [2, () => p.call(this.duration(d), rng.pick(['toMilliseconds', 'toSeconds', 'toMinutes',
        'toHours', 'toDays']), [])],
      [1, () => this.tagExpr(d, 'get')],
    ])();
  }

  string(depth) {
    const rng = this.rng;
    if (depth <= 0 || rng.chance(0.6)) {
      return rng.weighted([
        [3, () => Lit(CedarString(rng, rng.pick(kStrings)))],
        [3, () => this.attrOf('string')],
        [1, () => this.p.dot(this.p.dot(Lit('resource'), 'meta'), 'kind')],
        [1, () => this.p.dot(Lit('principal'), 'manager')],  // an entity where a string is wanted
      ])();
    }
    return this.p.call(this.set(0), 'isEmpty', []);  // mistyped on purpose
  }

  entity(depth) {
    const rng = this.rng;
    const p = this.p;
    return rng.weighted([
      [4, () => Lit(rng.pick(['principal', 'resource', 'action']))],
      [4, () => EntityRef(rng, RandomUid(rng, ['User', 'Group', 'Doc', 'Folder', 'NS::Thing']))],
      [1, () => EntityRef(rng, {type: 'Action', id: rng.pick(kActions)})],
      [2, () => p.dot(Lit('principal'), 'manager')],
      [2, () => p.dot(Lit('resource'), 'owner')],
      [1, () => p.dot(Lit('context'), 'who')],
      [depth > 0 ? 1 : 0, () => p.dot(p.dot(Lit('resource'), 'owner'), 'manager')],
    ])();
  }

  set(depth) {
    const rng = this.rng;
    const d = Math.max(0, depth - 1);
    return rng.weighted([
      [3, () => {
        const t = rng.pick(['long', 'string', 'entity', 'long']);
        const n = rng.int(4);
        const items = [];
        for (let i = 0; i < n; ++i) items.push(this.gen(rng.chance(0.9) ? t : 'bool', d));
        return Lit(`[${items.map((x) => x.text).join(', ')}]`);
      }],
      [3, () => this.attrOf(rng.pick(['setString', 'setLong']))],
      [1, () => this.entitySet(d)],
      [1, () => Lit(`[${this.gen('set', 0).text}, ${this.gen('record', 0).text}]`)],
    ])();
  }

  record(depth) {
    const rng = this.rng;
    const p = this.p;
    const d = Math.max(0, depth - 1);
    return rng.weighted([
      [3, () => {
        const keys = rng.subset(['a', 'b', 'b c', 'if', 'zip'], 3);
        const uniq = [...new Set(keys)];
        const fields = uniq.map((k) => {
          const key = /^[a-z]+$/.test(k) && !kReserved.has(k) && rng.chance(0.7) ? k : CedarString(rng, k);
          return `${key}: ${this.gen(rng.pick(['long', 'string', 'bool']), d).text}`;
        });
        return Lit(`{${fields.join(', ')}}`);
      }],
      [2, () => Lit('context')],
      [1, () => p.dot(Lit('principal'), 'addr')],
      [1, () => p.dot(Lit('resource'), 'meta')],
      [1, () => p.dot(Lit('context'), 'rec')],
    ])();
  }

  extCtor(fn, ok, bad) {
    const rng = this.rng;
    const arg = rng.chance(0.85) ? rng.pick(ok) : rng.pick(bad);
    if (rng.chance(0.05)) {  // non-literal argument
      return Lit(`${fn}(${this.string(0).text})`);
    }
    return Lit(`${fn}(${CedarString(rng, arg)})`);
  }

  decimal(depth) {
    return this.rng.chance(0.5) ? this.extCtor('decimal', kDecimalOk, kDecimalBad) :
      this.attrOf('decimal');
  }

  ipaddr(depth) {
    return this.rng.chance(0.6) ? this.extCtor('ip', kIpOk, kIpBad) : this.attrOf('ipaddr');
  }

  datetime(depth) {
    const rng = this.rng;
    const p = this.p;
    if (depth <= 0 || rng.chance(0.5)) {
      return rng.chance(0.5) ? this.extCtor('datetime', kDatetimeOk, kDatetimeBad) : this.attrOf('datetime');
    }
    const d = depth - 1;
    return rng.weighted([
      [2, () => p.call(this.datetime(d), 'offset', [this.duration(d)])],
      [1, () => p.call(this.datetime(d), 'toDate', [])],
    ])();
  }

  duration(depth) {
    const rng = this.rng;
    const p = this.p;
    if (depth <= 0 || rng.chance(0.5)) {
      return rng.chance(0.6) ? this.extCtor('duration', kDurationOk, kDurationBad) : this.attrOf('duration');
    }
    const d = depth - 1;
    return rng.weighted([
      [2, () => p.call(this.datetime(d), 'durationSince', [this.datetime(d)])],
      [1, () => p.call(this.datetime(d), 'toTime', [])],
    ])();
  }
}

// ---------------------------------------------------------------------------------------------------
// Policies and requests.

function ScopeConstraint(rng, variable, types, ids) {
  const uid = () => EntityRef(rng, RandomUid(rng, types)).text;
  return rng.weighted([
    [14, () => variable],
    [2, () => `${variable} == ${uid()}`],
    [3, () => `${variable} in ${uid()}`],
    [2, () => `${variable} is ${rng.pick(types)}`],
    [2, () => `${variable} is ${rng.pick(types)} in ${uid()}`],
  ])();
}

function ActionConstraint(rng) {
  const act = () => EntityRef(rng, {type: 'Action', id: rng.pick(kActions)}).text;
  return rng.weighted([
    [12, () => 'action'],
    [2, () => `action == ${act()}`],
    [2, () => `action in ${act()}`],
    [2, () => {
      const n = 1 + rng.int(3);
      const items = [];
      for (let i = 0; i < n; ++i) items.push(act());
      return `action in [${items.join(', ')}]`;
    }],
  ])();
}

function GeneratePolicy(rng, schemaMode, id) {
  const g = new ExprGen(rng, schemaMode);
  let text = '';
  if (id !== null) text += `@id(${CedarString(rng, id)})\n`;
  if (rng.chance(0.2)) text += '@advice("generated")\n';
  if (rng.chance(0.1)) text += '@flag\n';
  text += rng.chance(0.65) ? 'permit' : 'forbid';
  const sep = rng.chance(0.5) ? ',\n  ' : ', ';
  text += `(${ScopeConstraint(rng, 'principal', ['User', 'Group'])}${sep}${ActionConstraint(rng)}${sep}` +
    `${ScopeConstraint(rng, 'resource', ['Doc', 'Folder'])})`;
  const nClauses = rng.weighted([[1, 0], [6, 1], [2, 2], [1, 3]]);
  for (let i = 0; i < nClauses; ++i) {
    const depth = rng.weighted([[1, 0], [3, 1], [3, 2], [2, 3]]);
    text += `\n${rng.chance(0.75) ? 'when' : 'unless'} { ${g.bool(depth).text} }`;
  }
  if (rng.chance(0.1)) text = `// policy ${id || ''}\n${text}`;
  return text + ';';
}

function GenerateContext(rng, schemaMode) {
  const ctx = {};
  for (const [name, type] of Object.entries(kContextAttrs)) {
    if (schemaMode) {
      if (name === 'opt' && rng.chance(0.5)) continue;
      ctx[name] = JsonValue(rng, type, true);
    } else {
      if (rng.chance(0.15)) continue;
      ctx[name] = rng.chance(0.1) ? JsonValue(rng, 'any', false) : JsonValue(rng, type, false);
    }
  }
  return ctx;
}

function GenerateRequest(rng, schemaMode) {
  const uid = (types) => {
    const u = RandomUid(rng, types);
    return {type: u.type, id: u.id};
  };
  if (schemaMode) {
    const action = rng.pick(['view', 'list', 'edit', 'delete']);
    const resourceTypes = action === 'view' || action === 'list' ? ['Doc', 'Folder'] : ['Doc'];
    return {principal: uid(['User']), action: {type: 'Action', id: action},
      resource: uid(resourceTypes), context: GenerateContext(rng, true)};
  }
  return {
    principal: uid(rng.chance(0.85) ? ['User'] : ['Group', 'Doc', 'NS::Thing']),
    action: {type: 'Action', id: rng.chance(0.95) ? rng.pick(kActions) : 'ghost'},
    resource: uid(rng.chance(0.85) ? ['Doc', 'Folder'] : ['User', 'NS::Thing']),
    context: GenerateContext(rng, false),
  };
}

// One case: {seed, schemaMode, schema, policies: [{id, text}], useIds, entities, requests}.
function GenerateCase(seed, options = {}) {
  const rng = new Rng(seed);
  const schemaMode = options.schemaMode !== undefined ? options.schemaMode : rng.chance(0.35);
  const nPolicies = options.policies || 1 + rng.int(12);
  const nRequests = options.requests || 50;
  const useIds = rng.chance(0.3);
  const policies = [];
  for (let i = 0; i < nPolicies; ++i) {
    const id = useIds ? rng.pick(['p', 'allow-', 'deny ', 'ü', 'x"y']) + i : null;
    policies.push({id: useIds ? id : `policy${i}`, text: GeneratePolicy(rng, schemaMode, useIds ? id : null)});
  }
  const entities = GenerateEntities(rng, schemaMode);
  const requests = [];
  for (let i = 0; i < nRequests; ++i) requests.push(GenerateRequest(rng, schemaMode));
  return {seed, schemaMode, schema: schemaMode ? kSchema : null, policies, useIds, entities, requests};
}

module.exports = {Rng, CaseSeed, GenerateCase, kSchema};
