#!/usr/bin/env python3
"""wire_crosscheck.py: check our message definitions (*.def) against Kafka's JSON schemas.

Usage: wire_crosscheck.py --kafka DIR DEFDIR...

For every message we define: the Kafka schema of the same name exists with the same api key
and kind, its validVersions cover our range, flexibleVersions agree, and within our version
range every field agrees in order, name (CamelCase vs our snake_case, or the def's kafka=
override), type (struct types by name suffix), versions, nullable versions, tag, default and
field-level flexibleVersions (nullable versions are compared only where the field exists;
Kafka's string default "" is the implicit one). apis.def's flexible versions must match every
request schema.
Prints every mismatch and exits 1 if there is any; prints SKIP and exits 0 only when the Kafka
schema directory does not exist. Standard library only.
"""
import argparse
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "net", "wire", "gen"))
import wiregen  # noqa: E402  (our DSL parser)

VMAX = wiregen.VMAX

# Messages whose newer versions postdate the schema snapshot we check against: only versions up
# to the value are compared; the newer ones are covered by our own tests.
NEWER_THAN_SNAPSHOT = {
    "VoteRequest": 1,   # v2: KIP-996 pre-vote (Kafka 4.0), tests/unit/test_wire_raft.c
    "VoteResponse": 1,  # v2: same layout as v1
}


def load_kafka(root):
    """name -> (json, path) for every schema under root."""
    out = {}
    for path in glob.glob(os.path.join(root, "**", "*.json"), recursive=True):
        with open(path, encoding="utf-8") as fh:
            text = re.sub(r"//[^\n]*", "", fh.read())
        j = json.loads(text)
        out[j["name"]] = (j, path)
    return out


def kver(s):
    if s is None:
        return None
    return wiregen.parse_versions(s, "kafka")


def clip(vr, rng):
    """vr intersected with rng, or None when empty."""
    if vr is None:
        return None
    lo, hi = max(vr[0], rng[0]), min(vr[1], rng[1])
    return (lo, hi) if lo <= hi else None


def norm(name):
    return name.replace("_", "").lower()


def kdefault(kf):
    d = kf.get("default")
    t = kf["type"]
    if d is None:
        return None
    if d == "null":
        return "null"
    if d == "" and t == "string":
        return None  # the empty string is the type default
    if t == "bool":
        return str(d).lower()
    if t in ("int8", "int16", "uint16", "int32", "uint32", "int64"):
        return int(str(d), 0)
    if t == "float64":
        return float(d)
    return d


def odefault(f):
    d = f.default
    if d is None:
        return None
    if d == "null":
        return "null"
    if f.base == "bool" and not f.is_array:
        return d.lower()
    if f.base in ("int8", "int16", "uint16", "int32", "uint32", "int64") and not f.is_array:
        return int(d, 0)
    if f.base == "float64" and not f.is_array:
        return float(d)
    return d


def type_default(f):
    if f.is_array or f.is_struct:
        return None
    if f.base == "bool":
        return "false"
    if f.base in ("string", "bytes", "records", "uuid"):
        return None
    return 0.0 if f.base == "float64" else 0


class Checker:
    def __init__(self):
        self.errors = []

    def err(self, where, msg):
        self.errors.append(f"{where}: {msg}")

    def fields(self, ours, kfields, kcommon, rng, ctx):
        kf = [k for k in kfields if clip(kver(k["versions"]), rng)]
        ours = [f for f in ours if clip(f.versions, rng)]
        if len(ours) != len(kf):
            self.err(ctx, f"{len(ours)} fields, Kafka has {len(kf)} in versions "
                     f"{rng[0]}-{rng[1]}: ours {[f.name for f in ours]}, "
                     f"Kafka {[k['name'] for k in kf]}")
        for f, k in zip(ours, kf):
            self.field(f, k, kcommon, rng, f"{ctx}.{f.name}")

    def field(self, f, k, kcommon, rng, ctx):
        want = norm(f.kafka) if f.kafka else norm(f.name)
        if want != k["name"].lower():
            self.err(ctx, f"name: Kafka has {k['name']} here")
            return
        ktype = k["type"]
        karr = ktype.startswith("[]")
        kbase = ktype[2:] if karr else ktype
        if karr != f.is_array:
            self.err(ctx, f"array-ness differs: ours {f.base}, Kafka {ktype}")
        if f.is_struct:
            if kbase in wiregen.PRIMS or not kbase.lower().endswith(f.base.lower()):
                self.err(ctx, f"type: ours {f.base}, Kafka {ktype}")
        elif kbase != f.base:
            self.err(ctx, f"type: ours {f.base}, Kafka {ktype}")
        if clip(f.versions, rng) != clip(kver(k["versions"]), rng):
            self.err(ctx, f"versions: ours {f.versions}, Kafka {k['versions']}")
        # Kafka sometimes states nullable versions wider than the field's (CreateTopics
        # ErrorMessage: 1+, nullable 0+); only versions where the field exists matter.
        frng = clip(f.versions, rng) or rng
        if clip(f.nullable, frng) != clip(kver(k.get("nullableVersions")), frng):
            self.err(ctx, f"nullable: ours {f.nullable}, Kafka {k.get('nullableVersions')}")
        ktag = k.get("tag")
        ktag = None if ktag is None else int(ktag)
        if f.tag != ktag:
            self.err(ctx, f"tag: ours {f.tag}, Kafka {ktag}")
        if ktag is not None and clip(kver(k.get("taggedVersions")), rng) != clip(f.versions, rng):
            self.err(ctx, f"tagged versions: Kafka {k.get('taggedVersions')} differ from "
                     "the field's versions")
        kd, od = kdefault(k), odefault(f)
        if kd is None:
            kd = type_default(f)
        if od is None:
            od = type_default(f)
        if kd != od:
            self.err(ctx, f"default: ours {f.default}, Kafka {k.get('default')}")
        if (k.get("flexibleVersions") == "none") != f.noflex:
            self.err(ctx, "field-level flexibleVersions none <-> noflex differ")
        if f.is_struct:
            kchildren = k.get("fields")
            if kchildren is None:
                kchildren = kcommon.get(kbase)
            if kchildren is None:
                self.err(ctx, f"Kafka struct {kbase} not found")
                return
            self.fields(f.struct.fields, kchildren, kcommon, rng, ctx)

    def message(self, m, kafka):
        suffix = {"request": "Request", "response": "Response"}.get(m.kind, "")
        kname = m.name + suffix
        ctx = f"{m.where} {kname}"
        if kname not in kafka:
            self.err(ctx, "no Kafka schema of this name")
            return
        j, path = kafka[kname]
        if j.get("type") != m.kind:
            self.err(ctx, f"kind: ours {m.kind}, Kafka {j.get('type')}")
        if j.get("apiKey") != m.key:
            self.err(ctx, f"api key: ours {m.key}, Kafka {j.get('apiKey')}")
        kv = kver(j["validVersions"])
        rng = m.versions
        if kname in NEWER_THAN_SNAPSHOT and kv[1] == NEWER_THAN_SNAPSHOT[kname]:
            rng = (m.versions[0], min(m.versions[1], kv[1]))
        if not (kv[0] <= rng[0] and rng[1] <= kv[1]):
            self.err(ctx, f"versions {m.versions} not within Kafka's {j['validVersions']}")
        kfl = kver(j.get("flexibleVersions", "none"))
        if (kfl[0] if kfl else None) != (m.flex[0] if m.flex else None):
            self.err(ctx, f"flexible: ours {m.flex}, Kafka {j.get('flexibleVersions')}")
        kcommon = {c["name"]: c["fields"] for c in j.get("commonStructs", [])}
        self.fields(m.fields, j.get("fields", []), kcommon, rng, ctx)

    def apis(self, apis, kafka):
        for key, name, flex in apis:
            kname = name + "Request"
            if kname not in kafka or kafka[kname][0].get("apiKey") != key:
                self.err(f"apis.def {name}", "no Kafka request schema with this name and key")
                continue
            kfl = kver(kafka[kname][0].get("flexibleVersions", "none"))
            if (kfl[0] if kfl else -1) != flex:
                self.err(f"apis.def {name}", f"flexible: ours {flex}, Kafka "
                         f"{kafka[kname][0].get('flexibleVersions')}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kafka", required=True)
    ap.add_argument("defdirs", nargs="+")
    a = ap.parse_args()
    if not os.path.isdir(a.kafka):
        print(f"SKIP: Kafka schemas not found at {a.kafka}; cross-check not run")
        return 0
    kafka = load_kafka(a.kafka)
    ck = Checker()
    nmsg = 0
    for d in a.defdirs:
        prefix = "meta" if os.path.basename(os.path.normpath(d)) == "defs" and \
            "metadata" in os.path.normpath(d).split(os.sep)[-2:] else "wire"
        for path in sorted(glob.glob(os.path.join(d, "*.def"))):
            try:
                msgs, apis = wiregen.parse_file(path)
                for m in msgs:
                    wiregen.check_and_resolve(m, prefix)
            except wiregen.DefError as e:
                ck.err(path, f"does not parse: {e}")
                continue
            for m in msgs:
                ck.message(m, kafka)
                nmsg += 1
            ck.apis(apis, kafka)
    if nmsg == 0:
        ck.err("defs", "no message definitions found")
    for e in ck.errors:
        print(f"MISMATCH {e}")
    if ck.errors:
        print(f"FAIL: {len(ck.errors)} mismatches")
        return 1
    print(f"OK: {nmsg} messages agree with Kafka's schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
