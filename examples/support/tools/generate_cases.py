#!/usr/bin/env python3
"""Generates the example pack's sample cases and their expected routing, deterministically.

The expectations come from this file's own model of what the pack is meant to do (written from
the policy comments, not from the router), so `arbiter test --pack examples/support` checks two
independent descriptions of the same intent against each other.

  tools/generate_cases.py                      # rewrites tests/cases.jsonl (the pack tests)
  tools/generate_cases.py --count 100000 --seed 7 --replay > /tmp/history.jsonl   # replay corpus
"""
import argparse
import json
import random
import sys

LANG_COVERED = {"en", "de", "fr", "es", "nl"}
AGENT_LIMITS = {"refund-agent-1": 10000, "refund-agent-2": 5000, "triage-bot-1": 0,
                "triage-bot-2": 0, "entitlement-agent-1": 0}
PEOPLE_ROLES = {"alice": {"supervisor", "agent"}, "bob": {"agent"}, "carla": {"finance"},
                "dmitri": {"account-manager", "agent"}, "erin": {"supervisor", "agent"},
                "farid": {"agent"}}

# (id, queue, priority, predicate) in pack order; the highest priority escalation picks the queue.
ESCALATIONS = [
    ("sev1-incident", "incident", 100, lambda c: c["severity"] == 1),
    ("safety-indicator", "trust-safety", 95, lambda c: c["safety"]),
    ("fraud-indicator", "fraud", 90, lambda c: c["fraud"]),
    ("regulatory-indicator", "compliance", 85, lambda c: c["regulatory"]),
    ("legal-category", "compliance", 84, lambda c: c["category"] in ("legal", "data_request")),
    ("restricted-data-never-to-ai", "privacy", 80, lambda c: c["sensitivity"] == "restricted"),
    ("duplicate-storm", "incident", 70, lambda c: c["duplicate_cluster"] >= 10),
    ("sev2-premium", "tier2", 60,
     lambda c: c["severity"] == 2 and c["tier"] in ("premium", "enterprise")),
    ("urgent-enterprise", "enterprise", 50,
     lambda c: c["tier"] == "enterprise" and c["priority"] == "urgent"),
    ("enterprise-low-confidence", "enterprise", 40,
     lambda c: c["tier"] == "enterprise" and c["ai_confidence"] < 80),
    ("language-not-covered", "language-desk", 30, lambda c: c["language"] not in LANG_COVERED),
    ("low-ai-confidence", "general", 20, lambda c: c["ai_confidence"] < 60),
    ("chargeback-category", "billing", 15, lambda c: c["category"] == "chargeback"),
]

FIRST = ["Anna", "Ben", "Chloe", "Diego", "Emma", "Felix", "Greta", "Hugo", "Ines", "Jonas",
         "Kira", "Liam", "Mona", "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara"]
LAST = ["Schmidt", "Dubois", "Garcia", "Jansen", "Smith", "Rossi", "Novak", "Berg", "Costa"]
TIERS = ["free", "standard", "standard", "premium", "enterprise"]
CHANNELS = ["email", "chat", "web", "phone", "api"]
ROUTINE = [
    ("how_to", "How do I export my invoices?", "I need last quarter's invoices as PDF for accounting."),
    ("account", "Change the email on my account", "Please update the contact address on our account."),
    ("billing", "Question about my last bill", "The invoice shows two charges for the same month."),
    ("bug", "Dashboard does not load", "Since this morning the dashboard shows a blank page in Firefox."),
    ("feature", "Dark mode request", "Would be great to have a dark mode in the web app."),
    ("refund", "Refund for a duplicate charge", "I was charged twice, please refund one of them."),
    ("entitlement", "Add seats to our plan", "We hired new people and need more seats."),
    ("shipping", "Where is my order?", "The tracking page has not changed for five days."),
    ("password", "Cannot reset password", "The reset link in the email has expired twice."),
]
RESTRICTED_SNIPPETS = [
    ("payment_card", "My card 4111 1111 1111 1111 was charged twice."),
    ("iban", "Please refund to DE89 3704 0044 0532 0130 00."),
    ("api_key", "Our key sk_live_51Hc0aZ2eZvKYlo2C9xq8bN1 stopped working."),
    ("national_id", "My social security number is 078-05-1120 if you need it."),
]


def person(rng):
    f, l = rng.choice(FIRST), rng.choice(LAST)
    return f, l, f"{f.lower()}.{l.lower()}@example.com"


def base_case(rng, i):
    cat, subject, body = rng.choice(ROUTINE)
    f, l, email = person(rng)
    c = {
        "id": f"CASE-{i:06d}",
        "source": rng.choice(["zendesk", "jira", "email", "native"]),
        "subject": subject,
        "body": f"{body}\n\nThanks, {f} {l}",
        "language": "en",
        "channel": rng.choice(CHANNELS),
        "customer": {"id": f"cust-{rng.randrange(1, 5000):05d}", "tier": rng.choice(TIERS)},
        "severity": rng.choice([3, 4, 4, 4]),
        "priority": rng.choice(["low", "normal", "normal", "high"]),
        "category": cat,
        "ai": {"confidence": round(rng.uniform(0.82, 0.99), 2), "model": "triage-v3"},
        "created_at": f"2026-10-{rng.randrange(1, 29):02d}T{rng.randrange(0, 24):02d}:{rng.randrange(0, 60):02d}:00Z",
    }
    return c, email


def mutate(rng, kind, c, signals):
    """Applies one scenario family to a routine case."""
    if kind == "routine":
        pass
    elif kind == "sev1":
        c["severity"], c["category"] = 1, "outage"
        c["subject"], c["body"] = "Everything is down", "None of our users can log in. Production is down."
    elif kind == "sev2":
        c["severity"] = 2
        c["customer"]["tier"] = rng.choice(["premium", "enterprise", "standard", "free"])
    elif kind == "fraud":
        c["indicators"] = {"fraud": True}
        c["body"] += "\nI did not make these purchases, someone used my account."
    elif kind == "regulatory":
        c["indicators"] = {"regulatory": True}
        c["body"] += "\nI have filed a complaint with the financial ombudsman."
    elif kind == "safety":
        c["indicators"] = {"safety": True}
        c["body"] += "\nThe charger overheated and burned my hand."
    elif kind == "legal":
        c["category"] = rng.choice(["legal", "data_request"])
        c["subject"] = "Request under GDPR article 15"
    elif kind == "restricted":
        k, text = rng.choice(RESTRICTED_SNIPPETS)
        c["body"] += "\n" + text
        signals["sensitivity"] = {"level": "restricted", "kinds": [k]}
    elif kind == "confidential":
        c["body"] += "\nYou can call me on +49 30 1234567."
        signals["sensitivity"] = {"level": "confidential", "kinds": ["email", "phone"]}
    elif kind == "low_conf":
        c["ai"]["confidence"] = round(rng.uniform(0.05, 0.59), 2)
    elif kind == "mid_conf":
        c["ai"]["confidence"] = round(rng.uniform(0.60, 0.79), 2)
        c["customer"]["tier"] = rng.choice(["enterprise", "standard", "premium"])
    elif kind == "no_conf":
        del c["ai"]
    elif kind == "storm":
        c["subject"], c["body"] = "Payments failing", "Checkout returns error 502 for all cards."
        signals["duplicate"] = {"cluster_size": rng.choice([3, 9, 10, 14, 40]), "similarity": 0.93}
    elif kind == "language":
        c["language"] = rng.choice(["ja", "pt-BR", "de-CH", "fr", "pl", "sv", "es-MX", "it"])
    elif kind == "urgent_enterprise":
        c["customer"]["tier"] = "enterprise"
        c["priority"] = rng.choice(["urgent", "high"])
    elif kind == "chargeback":
        c["category"] = "chargeback"
    elif kind == "sanctioned":
        c.setdefault("attributes", {})["account_status"] = "sanctioned"
    elif kind == "mixed":
        for k in rng.sample(["fraud", "restricted", "low_conf", "sev1", "language", "storm",
                             "regulatory", "safety", "chargeback", "sev2"], 2):
            mutate(rng, k, c, signals)
    return c


def cedar_view(c, signals):
    lang = (c.get("language") or "en").split("-")[0].lower()
    ind = c.get("indicators", {})
    conf = c.get("ai", {}).get("confidence")
    return {
        "tier": c.get("customer", {}).get("tier") or "standard",
        "severity": c.get("severity", 4),
        "priority": c.get("priority", "normal"),
        "category": c.get("category", ""),
        "language": lang,
        "ai_confidence": 0 if conf is None else int(round(conf * 100)),
        "fraud": ind.get("fraud", False),
        "regulatory": ind.get("regulatory", False),
        "safety": ind.get("safety", False),
        "sensitivity": signals.get("sensitivity", {}).get("level", "none"),
        "duplicate_cluster": signals.get("duplicate", {}).get("cluster_size", 1),
        "account_status": c.get("attributes", {}).get("account_status", "active"),
    }


def expect_route(view):
    hits = [e for e in ESCALATIONS if e[3](view)]
    if view["account_status"] == "sanctioned":
        return {"route": "blocked", "reasons": sorted(["sanctioned-account-hold"] + [h[0] for h in hits])}
    if not hits:
        return {"route": "ai", "reasons": ["ai-baseline"]}
    best = max(hits, key=lambda e: e[2])
    return {"route": "human", "queue": best[1], "reasons": sorted(h[0] for h in hits)}


def expect_refund(view, agent, amount, approval_role=None):
    limit = AGENT_LIMITS[agent]
    forbids, approvals = [], []
    def approved(role):
        return approval_role == role
    if limit < amount <= 100000 and not approved("supervisor"):
        forbids.append("refund-over-limit-needs-supervisor"); approvals.append("supervisor")
    if 100000 < amount <= 500000 and not approved("finance"):
        forbids.append("refund-over-1000-needs-finance"); approvals.append("finance")
    if amount > 500000:
        forbids.append("refund-hard-limit")
    if view["fraud"]:
        forbids.append("no-refund-on-fraud")
    if forbids:
        if "no-refund-on-fraud" in forbids:
            return {"decision": "escalate", "queue": "fraud", "reasons": sorted(forbids)}
        if len(approvals) == len(forbids):
            return {"decision": "pending_approval", "approvals": sorted(set(approvals)),
                    "reasons": sorted(forbids)}
        return {"decision": "deny", "reasons": sorted(forbids)}
    permits = []
    if 0 < amount <= limit:
        permits.append("refund-within-agent-limit")
    if approval_role is not None:
        permits.append("refund-approved")
    if not permits:
        return {"decision": "deny", "reasons": []}
    return {"decision": "allow", "reasons": sorted(permits)}


def expect_entitlement(view, delta, approval_role=None):
    needs = (view["tier"] == "enterprise" or delta > 50 or delta < -50)
    if needs and approval_role != "account-manager":
        return {"decision": "pending_approval", "approvals": ["account-manager"],
                "reasons": ["entitlement-change-enterprise-needs-account-manager"]}
    return {"decision": "allow", "reasons": ["entitlement-change-allowed"]}


def add_intents(rng, t, view):
    intents = []
    if t["case"]["category"] == "refund" or rng.random() < 0.15:
        agent = rng.choice(["refund-agent-1", "refund-agent-2", "triage-bot-1"])
        amount = rng.choice([500, 2500, 9999, 10000, 10001, 45000, 100000, 150000, 500000, 750000])
        exp = expect_refund(view, agent, amount)
        it = {"agent": f'Agent::"{agent}"', "intent": "refund", "params": {"amount_cents": amount},
              "expect": exp}
        if exp["decision"] == "pending_approval":
            role = exp["approvals"][0]
            who = rng.choice(["alice", "bob", "carla", "erin"])
            ok = role in PEOPLE_ROLES[who]
            a = {"by": f'Human::"{who}"', "expect": {"approval": "allow" if ok else "deny"}}
            if ok:
                a["expect"]["decision"] = expect_refund(view, agent, amount, role)["decision"]
            it["approve"] = a
        intents.append(it)
    if t["case"]["category"] == "entitlement":
        delta = rng.choice([1, 5, 20, 51, 120, -60])
        exp = expect_entitlement(view, delta)
        it = {"agent": 'Agent::"entitlement-agent-1"', "intent": "change_entitlement",
              "params": {"seats_delta": delta}, "expect": exp}
        if exp["decision"] == "pending_approval":
            who = rng.choice(["dmitri", "alice"])
            ok = "account-manager" in PEOPLE_ROLES[who]
            a = {"by": f'Human::"{who}"', "expect": {"approval": "allow" if ok else "deny"}}
            if ok:
                a["expect"]["decision"] = "allow"
            it["approve"] = a
        intents.append(it)
    if intents:
        t["intents"] = intents


def add_override(rng, t, view, route):
    if rng.random() < 0.2:
        who = rng.choice(list(PEOPLE_ROLES))
        to_route = "ai" if route["route"] != "ai" else "human"
        allowed = "supervisor" in PEOPLE_ROLES[who]
        if to_route == "ai" and (view["sensitivity"] == "restricted" or view["safety"]):
            allowed = False
        t["overrides"] = [{"by": f'Human::"{who}"', "to_route": to_route,
                           "to_queue": "" if to_route == "ai" else "tier2",
                           "expect": "allow" if allowed else "deny"}]


KINDS = (["routine"] * 6 + ["sev1", "sev2", "sev2", "fraud", "regulatory", "safety", "legal",
          "restricted", "restricted", "confidential", "low_conf", "mid_conf", "no_conf", "storm",
          "storm", "language", "language", "urgent_enterprise", "chargeback", "sanctioned", "mixed",
          "mixed", "mixed"])


def generate(count, seed, with_expect):
    rng = random.Random(seed)
    for i in range(1, count + 1):
        kind = KINDS[(i - 1) % len(KINDS)] if i <= len(KINDS) else rng.choice(KINDS)
        c, _ = base_case(rng, i)
        signals = {}
        mutate(rng, kind, c, signals)
        t = {"name": f"{kind}-{i:06d}", "case": c}
        if signals:
            t["signals"] = signals
        if with_expect:
            view = cedar_view(c, signals)
            route = expect_route(view)
            t["expect"] = route
            add_intents(rng, t, view)
            add_override(rng, t, view, route)
        yield t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=240)
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--replay", action="store_true", help="cases only (no expectations), to stdout")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if args.replay:
        out = open(args.out, "w") if args.out else sys.stdout
        for t in generate(args.count, args.seed, False):
            rec = {"case": t["case"]}
            if "signals" in t:
                rec["signals"] = t["signals"]
            out.write(json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n")
        return
    import os
    path = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "cases.jsonl")
    with open(path, "w") as f:
        for t in generate(args.count, args.seed, True):
            f.write(json.dumps(t, sort_keys=True, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
