#!/usr/bin/env python3
"""wiregen.py: generate C structs and codecs from Sluice's message-definition DSL (*.def).

Usage: wiregen.py --prefix wire|meta --include HEADER --out-h X.gen.h --out-c X.gen.c DEF...

The DSL is documented in docs/codec.md. In short:

    # comment
    <kind> <key|-> <Name> versions <A-B|A> flexible <N+|none>
      <field> <type> <versions> [null=<versions>] [tag=<n>] [default=<v>] [noflex] [kafka=<Name>]
        <child fields of a struct or []struct field, indented two more spaces>
      struct <Name>            (a common struct, referred to by fields typed Name / []Name)
        <its fields>
    api <key> <Name> flexible <N+|none>      (header-version table only)

kinds: request, response, header, data, metadata. Standard library only; Python 3.9+.
"""
import argparse
import re
import sys

PRIMS = {
    # type: (C type, reader suffix, fixed encoded size or None)
    "int8": ("int8_t", "i8", 1),
    "int16": ("int16_t", "i16", 2),
    "uint16": ("uint16_t", "u16", 2),
    "int32": ("int32_t", "i32", 4),
    "uint32": ("uint32_t", "u32", 4),
    "int64": ("int64_t", "i64", 8),
    "float64": ("double", "f64", 8),
    "bool": ("bool", "bool", 1),
    "uuid": ("struct sl_uuid", "uuid", 16),
    "string": ("struct wire_str", "string", None),
    "bytes": ("struct wire_bytes", "bytes", None),
    "records": ("struct wire_bytes", "bytes", None),
}
VMAX = 32767
KINDS = ("request", "response", "header", "data", "metadata")


class DefError(Exception):
    pass


def parse_versions(s, where):
    if s == "none":
        return None
    m = re.fullmatch(r"(\d+)(\+|-(\d+))?", s)
    if not m:
        raise DefError(f"{where}: bad version range '{s}'")
    lo = int(m.group(1))
    if m.group(2) == "+":
        return (lo, VMAX)
    if m.group(3) is not None:
        hi = int(m.group(3))
        if hi < lo:
            raise DefError(f"{where}: empty version range '{s}'")
        return (lo, hi)
    return (lo, lo)


def snake(name):
    name = name.replace("KRaft", "Kraft")
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.lower()


class Field:
    def __init__(self, name, typ, versions, where):
        self.name = name
        self.where = where
        self.is_array = typ.startswith("[]")
        self.base = typ[2:] if self.is_array else typ
        self.versions = versions
        self.nullable = None
        self.tag = None
        self.default = None
        self.noflex = False
        self.kafka = None
        self.children = []  # inline struct fields
        self.struct = None  # resolved Struct for struct / []struct

    @property
    def is_struct(self):
        return self.base not in PRIMS


class Struct:
    def __init__(self, name, cname, fields):
        self.name = name
        self.cname = cname
        self.fields = fields


class Message:
    def __init__(self, kind, key, name, versions, flex, where):
        self.kind = kind
        self.key = key
        self.name = name
        self.versions = versions
        self.flex = flex
        self.where = where
        self.fields = []
        self.common = {}  # name -> list of Field
        self.structs = []  # every Struct, children first
        self.cname = None


def tokenize(line):
    return line.split()


def parse_field(toks, where):
    if len(toks) < 3:
        raise DefError(f"{where}: a field needs '<name> <type> <versions>'")
    name, typ, vers = toks[0], toks[1], toks[2]
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise DefError(f"{where}: field names are snake_case: '{name}'")
    v = parse_versions(vers, where)
    if v is None:
        raise DefError(f"{where}: a field must exist in some version")
    f = Field(name, typ, v, where)
    for opt in toks[3:]:
        if opt == "noflex":
            f.noflex = True
        elif opt.startswith("null="):
            f.nullable = parse_versions(opt[5:], where)
        elif opt.startswith("tag="):
            f.tag = int(opt[4:])
        elif opt.startswith("default="):
            f.default = opt[8:]
        elif opt.startswith("kafka="):
            f.kafka = opt[6:]
        else:
            raise DefError(f"{where}: unknown field option '{opt}'")
    return f


def parse_file(path):
    """Returns (messages, apis) from one .def file."""
    msgs, apis = [], []
    stack = None  # list of (indent, children list)
    msg = None
    with open(path, encoding="utf-8") as fh:
        for no, raw in enumerate(fh, 1):
            where = f"{path}:{no}"
            line = raw.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            if "\t" in line:
                raise DefError(f"{where}: indent with spaces, not tabs")
            indent = len(line) - len(line.lstrip(" "))
            toks = tokenize(line)
            if indent == 0:
                msg = None
                if toks[0] == "api":
                    if len(toks) != 5 or toks[3] != "flexible":
                        raise DefError(f"{where}: expected 'api <key> <Name> flexible <v>'")
                    fv = parse_versions(toks[4], where)
                    apis.append((int(toks[1]), toks[2], -1 if fv is None else fv[0]))
                    continue
                if toks[0] not in KINDS or len(toks) != 7 or toks[3] != "versions" or \
                        toks[5] != "flexible":
                    raise DefError(f"{where}: expected '<kind> <key|-> <Name> versions <v> "
                                   "flexible <v>'")
                key = None if toks[1] == "-" else int(toks[1])
                if (key is None) != (toks[0] in ("data", "header")):
                    need = "need" if key is None else "have no"
                    raise DefError(f"{where}: {toks[0]} messages {need} an api key")
                msg = Message(toks[0], key, toks[2], parse_versions(toks[4], where),
                              parse_versions(toks[6], where), where)
                msgs.append(msg)
                stack = [(0, msg.fields)]
                continue
            if msg is None:
                raise DefError(f"{where}: indented line outside a message")
            if indent % 2:
                raise DefError(f"{where}: indent by two spaces per level")
            while stack and stack[-1][0] >= indent:
                stack.pop()
            if not stack or indent != stack[-1][0] + 2:
                raise DefError(f"{where}: unexpected indentation")
            parent = stack[-1][1]
            if toks[0] == "struct":
                if indent != 2 or len(toks) != 2:
                    raise DefError(f"{where}: 'struct <Name>' belongs at message level")
                msg.common[toks[1]] = []
                stack.append((indent, msg.common[toks[1]]))
                continue
            f = parse_field(toks, where)
            parent.append(f)
            stack.append((indent, f.children))
    return msgs, apis


def check_and_resolve(msg, prefix):
    if msg.kind == "request":
        msg.cname = f"{prefix}_{snake(msg.name)}_request"
    elif msg.kind == "response":
        msg.cname = f"{prefix}_{snake(msg.name)}_response"
    else:
        msg.cname = f"{prefix}_{snake(msg.name)}"
    if msg.versions is None:
        raise DefError(f"{msg.where}: a message needs versions")
    names = {}
    common_structs = {}

    def in_flex(vr):
        return msg.flex is not None and vr[0] >= msg.flex[0]

    def make_struct(sname, fields, where):
        cname = f"{msg.cname}_{snake(sname)}"
        if cname in names:
            raise DefError(f"{where}: struct name '{sname}' used twice")
        names[cname] = True
        st = Struct(sname, cname, fields)
        walk(fields)
        msg.structs.append(st)
        return st

    def walk(fields):
        seen = set()
        tags = set()
        for f in fields:
            if f.name in seen:
                raise DefError(f"{f.where}: duplicate field '{f.name}'")
            seen.add(f.name)
            if f.nullable and f.base not in ("string", "bytes", "records") and not f.is_array:
                raise DefError(f"{f.where}: only strings, bytes and arrays can be nullable")
            if f.nullable and (f.nullable[0] < f.versions[0]):
                raise DefError(f"{f.where}: nullable versions outside the field's versions")
            if f.tag is not None:
                if f.tag in tags:
                    raise DefError(f"{f.where}: duplicate tag {f.tag}")
                tags.add(f.tag)
                if not in_flex(f.versions):
                    raise DefError(f"{f.where}: tagged fields exist only in flexible versions")
            if f.default is not None:
                if f.is_struct and not f.is_array:
                    raise DefError(f"{f.where}: a struct's default is its fields' defaults")
                if f.default == "null" and not (f.nullable and f.nullable[0] <= f.versions[0]):
                    raise DefError(f"{f.where}: default=null needs a nullable field")
                if f.is_array and f.default != "null":
                    raise DefError(f"{f.where}: arrays only take default=null")
                if f.base in ("string", "bytes", "records", "uuid") and f.default != "null":
                    raise DefError(f"{f.where}: only default=null is supported for {f.base}")
            if f.is_struct:
                if f.children:
                    f.struct = make_struct(f.base, f.children, f.where)
                elif f.base in msg.common:
                    if f.base not in common_structs:
                        common_structs[f.base] = make_struct(f.base, msg.common[f.base], f.where)
                    f.struct = common_structs[f.base]
                else:
                    raise DefError(f"{f.where}: unknown type '{f.base}'")
            elif f.children:
                raise DefError(f"{f.where}: a {f.base} field has no child fields")

    walk(msg.fields)
    top = Struct(msg.name, msg.cname, msg.fields)
    msg.structs.append(top)
    msg.top = top


# ---- C emission ----------------------------------------------------------------------------


def vcond(vr, msg):
    """C condition for 'v in vr' given v is within msg.versions; None when always true."""
    lo, hi = msg.versions
    parts = []
    if vr[0] > lo:
        parts.append(f"v >= {vr[0]}")
    if vr[1] < hi:
        parts.append(f"v <= {vr[1]}")
    if vr[0] > hi or vr[1] < lo:
        return "false"
    return " && ".join(parts) if parts else None


def flex_expr(msg):
    if msg.flex is None or msg.flex[0] > msg.versions[1]:
        return "false"
    if msg.flex[0] <= msg.versions[0]:
        return "true"
    return f"v >= {msg.flex[0]}"


def null_expr(f, msg):
    if not f.nullable:
        return "false"
    c = vcond(f.nullable, msg)
    return "true" if c is None else f"({c})"


def c_decl(f):
    if f.is_struct:
        t = f"struct {f.struct.cname}"
    else:
        t = PRIMS[f.base][0]
    if f.is_array:
        return [f"int32_t {f.name}_count;", f"{t} *{f.name};"]
    return [f"{t} {f.name};"]


def min_bytes(st, v, msg, flex):
    """Minimum encoded size of struct st at version v."""
    n = 1 if flex else 0  # tagged-field count
    for f in st.fields:
        if not (f.versions[0] <= v <= f.versions[1]) or f.tag is not None:
            continue
        compact = flex and not f.noflex
        if f.is_array:
            n += 1 if compact else 4
        elif f.is_struct:
            n += min_bytes(f.struct, v, msg, flex)
        elif f.base == "string":
            n += 1 if compact else 2
        elif f.base in ("bytes", "records"):
            n += 1 if compact else 4
        else:
            n += PRIMS[f.base][2]
    return n


def elem_min_expr(f, msg):
    """C expression: minimum encoded size of one element of array field f at version v."""
    if not f.is_struct:
        if f.base == "string":
            return "(flex ? 1u : 2u)"
        if f.base in ("bytes", "records"):
            return "(flex ? 1u : 4u)"
        return f"{PRIMS[f.base][2]}u"
    lo, hi = msg.versions
    vals = []
    for v in range(lo, hi + 1):
        fl = msg.flex is not None and v >= msg.flex[0]
        vals.append(max(1, min_bytes(f.struct, v, msg, fl)))
    if len(set(vals)) == 1:
        return f"{vals[0]}u"
    return f"{f.struct.cname}_min_bytes[v - {lo}]"


def gen_decode_value(f, msg, rd, dst, out, ind):
    """Lines decoding one value of field f (not the array wrapper) from reader rd into dst."""
    if f.is_struct:
        out.append(f"{ind}err = {f.struct.cname}_dec({rd}, v, &{dst});")
    elif f.base == "string":
        out.append(f"{ind}err = wire_get_string({rd}, {'false' if f.noflex else 'flex'}, "
                   f"{null_expr(f, msg) if not f.is_array else 'false'}, &{dst});")
    elif f.base in ("bytes", "records"):
        out.append(f"{ind}err = wire_get_bytes({rd}, {'false' if f.noflex else 'flex'}, "
                   f"{null_expr(f, msg) if not f.is_array else 'false'}, &{dst});")
    else:
        out.append(f"{ind}err = wire_get_{PRIMS[f.base][1]}({rd}, &{dst});")
    out.append(f"{ind}if (err != SL_OK)")
    out.append(f"{ind}\treturn err;")


def gen_decode_field(f, msg, rd, out, ind):
    d = f"out->{f.name}"
    if not f.is_array:
        gen_decode_value(f, msg, rd, d, out, ind)
        return
    out.append(f"{ind}err = wire_get_array_len({rd}, flex, {null_expr(f, msg)}, "
               f"{elem_min_expr(f, msg)}, &{d}_count);")
    out.append(f"{ind}if (err != SL_OK)")
    out.append(f"{ind}\treturn err;")
    out.append(f"{ind}{d} = NULL;")
    out.append(f"{ind}if ({d}_count > 0) {{")
    out.append(f"{ind}\t{d} = wire_alloc_array({rd}, {d}_count, sizeof(*{d}));")
    out.append(f"{ind}\tif ({d} == NULL)")
    out.append(f"{ind}\t\treturn SL_ENOMEM;")
    out.append(f"{ind}\tfor (int32_t i = 0; i < {d}_count; i++) {{")
    gen_decode_value(f, msg, rd, f"{d}[i]", out, ind + "\t\t")
    out.append(f"{ind}\t}}")
    out.append(f"{ind}}}")


def gen_encode_value(f, msg, src, out, ind):
    if f.is_struct:
        out.append(f"{ind}{f.struct.cname}_enc(b, v, &{src});")
    elif f.base == "string":
        out.append(f"{ind}wire_put_string(b, {'false' if f.noflex else 'flex'}, "
                   f"{null_expr(f, msg) if not f.is_array else 'false'}, {src});")
    elif f.base in ("bytes", "records"):
        out.append(f"{ind}wire_put_bytes(b, {'false' if f.noflex else 'flex'}, "
                   f"{null_expr(f, msg) if not f.is_array else 'false'}, {src});")
    else:
        out.append(f"{ind}wire_put_{PRIMS[f.base][1]}(b, {src});")


def gen_encode_field(f, msg, out, ind):
    s = f"in->{f.name}"
    if not f.is_array:
        gen_encode_value(f, msg, s, out, ind)
        return
    out.append(f"{ind}wire_put_array_len(b, flex, {null_expr(f, msg)}, {s}_count);")
    out.append(f"{ind}for (int32_t i = 0; i < {s}_count; i++)")
    gen_encode_value(f, msg, f"{s}[i]", out, ind + "\t")


def c_default(f):
    """C expression of f's default (scalars only)."""
    d = f.default
    if f.base == "bool":
        return "true" if d == "true" else "false"
    if f.base == "float64":
        return d or "0.0"
    if d is None:
        return "0"
    val = int(d, 0)
    if f.base == "int64" and val == -(1 << 63):
        return "INT64_MIN"
    if f.base == "int32" and val == -(1 << 31):
        return "INT32_MIN"
    return str(val)


def nondefault_expr(f):
    s = f"in->{f.name}"
    if f.is_struct and not f.is_array:
        return f"!{f.struct.cname}_is_default(&{s})"
    if f.is_array:
        return f"{s}_count != {'-1' if f.default == 'null' else '0'}"
    if f.base == "string" or f.base in ("bytes", "records"):
        return f"{s}.len != {'-1' if f.default == 'null' else '0'}"
    if f.base == "uuid":
        return f"!sl_uuid_is_zero(&{s})"
    return f"{s} != {c_default(f)}"


def default_test_structs(msg):
    """Structs that need an _is_default test: the types of tagged non-array struct fields and
    the non-array structs nested in them (children before parents)."""
    need = []

    def add(st):
        for f in st.fields:
            if f.is_struct and not f.is_array:
                add(f.struct)
        if st not in need:
            need.append(st)

    for st in msg.structs:
        for f in st.fields:
            if f.tag is not None and f.is_struct and not f.is_array:
                add(f.struct)
    return need


def gen_is_default(st, out):
    """bool S_is_default(in): every field equals its default, in any version (a tagged struct
    field is written only when this is false, as Kafka compares with a fresh instance)."""
    conds = []
    for f in st.fields:
        nd = nondefault_expr(f)
        conds.append(nd[1:] if nd.startswith("!") else nd.replace(" != ", " == ", 1))
    out.append(f"static bool {st.cname}_is_default(const struct {st.cname} *in)")
    out.append("{")
    if not conds:
        out.append("\t(void)in;")
        out.append("\treturn true;")
    else:
        out.append("\treturn " + " &&\n\t       ".join(conds) + ";")
    out.append("}")
    out.append("")


def gen_init(st, out):
    out.append(f"void {st.cname}_init(struct {st.cname} *out)")
    out.append("{")
    out.append("\tmemset(out, 0, sizeof(*out));")
    for f in st.fields:
        s = f"out->{f.name}"
        if f.is_array:
            if f.default == "null":
                out.append(f"\t{s}_count = -1;")
        elif f.is_struct:
            out.append(f"\t{f.struct.cname}_init(&{s});")
        elif f.base == "string":
            if f.default == "null":
                out.append(f"\t{s}.ptr = NULL;")
                out.append(f"\t{s}.len = -1;")
            else:
                out.append(f"\t{s}.ptr = \"\";")
        elif f.base in ("bytes", "records"):
            if f.default == "null":
                out.append(f"\t{s}.len = -1;")
        elif f.base != "uuid" and c_default(f) not in ("0", "false", "0.0"):
            out.append(f"\t{s} = {c_default(f)};")
    out.append("}")
    out.append("")


def uses_v(lines):
    return any(re.search(r"\bv\b", ln) for ln in lines)


def uses_flex(lines):
    return any(re.search(r"\bflex\b", ln) for ln in lines)


def gen_dec(st, msg, out, top):
    body = []
    body.append(f"\t{st.cname}_init(out);")
    regular = [f for f in st.fields if f.tag is None]
    tagged = [f for f in st.fields if f.tag is not None]
    for f in regular:
        c = vcond(f.versions, msg)
        if c is None:
            gen_decode_field(f, msg, "r", body, "\t")
        else:
            body.append(f"\tif ({c}) {{")
            gen_decode_field(f, msg, "r", body, "\t\t")
            body.append("\t}")
    body.append("\tif (flex) {")
    body.append("\t\tuint32_t tag_count;")
    body.append("\t\terr = wire_get_uvarint32(r, &tag_count);")
    body.append("\t\tif (err != SL_OK)")
    body.append("\t\t\treturn err;")
    body.append("\t\tfor (uint32_t t = 0; t < tag_count; t++) {")
    body.append("\t\t\tuint32_t tag;")
    body.append("\t\t\tstruct wire_reader sub;")
    body.append("\t\t\terr = wire_get_tag(r, &tag, &sub);")
    body.append("\t\t\tif (err != SL_OK)")
    body.append("\t\t\t\treturn err;")
    if tagged:
        body.append("\t\t\tswitch (tag) {")
        for f in sorted(tagged, key=lambda x: x.tag):
            body.append(f"\t\t\tcase {f.tag}:")
            c = vcond(f.versions, msg)
            if c is None:
                gen_decode_field(f, msg, "&sub", body, "\t\t\t\t")
            else:
                body.append(f"\t\t\t\tif ({c}) {{")
                gen_decode_field(f, msg, "&sub", body, "\t\t\t\t\t")
                body.append("\t\t\t\t}")
            body.append("\t\t\t\tbreak;")
        body.append("\t\t\tdefault: /* unknown tags are skipped (KIP-482) */")
        body.append("\t\t\t\tbreak;")
        body.append("\t\t\t}")
    else:
        body.append("\t\t\t(void)tag; /* no known tags: skip */")
    body.append("\t\t}")
    body.append("\t}")
    body.append("\treturn SL_OK;")
    if not msg.flex or msg.flex[0] > msg.versions[1]:
        # Never flexible: drop the tagged section entirely.
        i = body.index("\tif (flex) {")
        body = body[:i] + ["\treturn SL_OK;"]
    if top:
        out.append(f"enum sl_err {st.cname}{'_decode_v' if msg.kind == 'header' else '_decode'}("
                   f"struct wire_reader *r, int16_t v, struct {st.cname} *out)")
    else:
        out.append(f"static enum sl_err {st.cname}_dec(struct wire_reader *r, int16_t v, "
                   f"struct {st.cname} *out)")
    out.append("{")
    out.append("\tenum sl_err err;")
    if uses_flex(body):
        out.append(f"\tconst bool flex = {flex_expr(msg)};")
    out.append("")
    if top:
        out.append(f"\tif (v < {msg.versions[0]} || v > {msg.versions[1]})")
        out.append("\t\treturn SL_EUNSUPPORTED;")
    elif not uses_v(body):
        out.append("\t(void)v;")
    if not any("err =" in ln for ln in body):
        out.append("\t(void)err;")
    out.extend(body)
    out.append("}")
    out.append("")


def gen_enc(st, msg, out, top):
    body = []
    regular = [f for f in st.fields if f.tag is None]
    tagged = sorted([f for f in st.fields if f.tag is not None], key=lambda x: x.tag)
    for f in regular:
        c = vcond(f.versions, msg)
        if c is None:
            gen_encode_field(f, msg, body, "\t")
        else:
            body.append(f"\tif ({c}) {{")
            gen_encode_field(f, msg, body, "\t\t")
            body.append("\t}")
    if msg.flex and msg.flex[0] <= msg.versions[1]:
        body.append("\tif (flex) {")
        if not tagged:
            body.append("\t\tsl_buf_put_u8(b, 0); /* no tagged fields */")
        else:
            body.append("\t\tuint32_t tag_count = 0;")
            conds = []
            for f in tagged:
                c = vcond(f.versions, msg)
                nd = nondefault_expr(f)
                cond = nd if c is None else f"({c}) && {nd}"
                conds.append(cond)
                body.append(f"\t\tif ({cond})")
                body.append("\t\t\ttag_count++;")
            body.append("\t\tsl_buf_put_uvarint(b, tag_count);")
            for f, cond in zip(tagged, conds):
                body.append(f"\t\tif ({cond}) {{")
                body.append(f"\t\t\tsize_t at = wire_tag_begin(b, {f.tag});")
                gen_encode_field(f, msg, body, "\t\t\t")
                body.append("\t\t\twire_tag_end(b, at);")
                body.append("\t\t}")
        body.append("\t}")
    if top:
        name = f"{st.cname}{'_encode_v' if msg.kind == 'header' else '_encode'}"
        out.append(f"void {name}(struct sl_buf *b, int16_t v, const struct {st.cname} *in)")
    else:
        out.append(f"static void {st.cname}_enc(struct sl_buf *b, int16_t v, "
                   f"const struct {st.cname} *in)")
    out.append("{")
    if uses_flex(body):
        out.append(f"\tconst bool flex = {flex_expr(msg)};")
        out.append("")
    if top:
        out.append(f"\tSL_ASSERT(v >= {msg.versions[0]});")
        out.append(f"\tSL_ASSERT(v <= {msg.versions[1]});")
    elif not uses_v(body):
        out.append("\t(void)v;")
    if not any(re.search(r"\bin\b", ln) for ln in body):
        out.append("\t(void)in;")
    if not any(re.search(r"\bb\b", ln) for ln in body):
        out.append("\t(void)b;")
    out.extend(body)
    out.append("}")
    out.append("")


def gen_min_tables(msg, out):
    lo, hi = msg.versions
    elems = {f.struct.cname for st in msg.structs for f in st.fields
             if f.is_array and f.is_struct}
    for st in msg.structs[:-1]:
        if st.cname not in elems:
            continue  # only array elements need a minimum size
        vals = []
        for v in range(lo, hi + 1):
            fl = msg.flex is not None and v >= msg.flex[0]
            vals.append(max(1, min_bytes(st, v, msg, fl)))
        if len(set(vals)) > 1:
            out.append(f"/* Minimum encoded size of one {st.name}, by version - {lo}. */")
            out.append(f"static const uint16_t {st.cname}_min_bytes[] = {{"
                       + ", ".join(str(x) for x in vals) + "};")
            out.append("")


def family(msg, prefix):
    return {"request": "request", "response": "response", "metadata": "record"}.get(msg.kind)


def generate(msgs, apis, prefix, include, banner):
    h, c = [], []
    guard = f"SL_{prefix.upper()}_GEN_H"
    h += [banner, f"#ifndef {guard}", f"#define {guard}", "",
          f"/* Include {include} rather than this file. */", ""]
    c += [banner, f"#include \"{include}\"", "", "#include <string.h>", ""]
    for msg in msgs:
        what = f"{msg.kind} {msg.name}" + (f" (key {msg.key})" if msg.key is not None else "")
        h.append(f"/* ---- {what}, versions {msg.versions[0]}-{msg.versions[1]}, flexible "
                 + (f"{msg.flex[0]}+" if msg.flex else "none") + " ---- */")
        h.append("")
        for st in msg.structs:
            h.append(f"struct {st.cname} {{")
            for f in st.fields:
                vs = f"{f.versions[0]}+" if f.versions[1] == VMAX else \
                     f"{f.versions[0]}-{f.versions[1]}"
                extra = (f", tag {f.tag}" if f.tag is not None else "") + \
                    (f", nullable {f.nullable[0]}+" if f.nullable else "")
                decl = c_decl(f)
                if len(decl) == 2:
                    extra += ", count -1 = null" if f.nullable else ""
                h.append(f"\t{decl[0]:<40} /* v{vs}{extra} */")
                for d in decl[1:]:
                    h.append(f"\t{d}")
            if not st.fields:
                h.append("\tchar unused; /* no fields */")
            h.append("};")
            h.append("")
        for st in msg.structs:
            h.append(f"/* Sets every field of *out to its default (absent-field value). */")
            h.append(f"void {st.cname}_init(struct {st.cname} *out);")
        t = msg.top.cname
        dec = "_decode_v" if msg.kind == "header" else "_decode"
        enc = "_encode_v" if msg.kind == "header" else "_encode"
        h.append(f"/* Decodes version v; SL_EUNSUPPORTED outside {msg.versions[0]}-"
                 f"{msg.versions[1]}, SL_EMALFORMED, SL_ENOMEM (arena). Views into r's buffer. */")
        h.append(f"enum sl_err {t}{dec}(struct wire_reader *r, int16_t v, struct {t} *out) "
                 "SL_MUST_USE;")
        h.append(f"/* Encodes version v (asserted in range); overflow is flagged on b. */")
        h.append(f"void {t}{enc}(struct sl_buf *b, int16_t v, const struct {t} *in);")
        h.append("")
        # C definitions
        c.append(f"/* ---- {what} ---- */")
        c.append("")
        for st in msg.structs[:-1]:
            c.append(f"static enum sl_err {st.cname}_dec(struct wire_reader *r, int16_t v, "
                     f"struct {st.cname} *out);")
            c.append(f"static void {st.cname}_enc(struct sl_buf *b, int16_t v, "
                     f"const struct {st.cname} *in);")
        c.append("")
        for st in default_test_structs(msg):
            gen_is_default(st, c)
        gen_min_tables(msg, c)
        for st in msg.structs:
            gen_init(st, c)
        for st in msg.structs:
            top = st is msg.top
            gen_dec(st, msg, c, top)
            gen_enc(st, msg, c, top)
    gen_dispatch(msgs, apis, prefix, h, c)
    h += ["#endif", ""]
    return "\n".join(h), "\n".join(c) + "\n"


def gen_dispatch(msgs, apis, prefix, h, c):
    fams = {}
    for m in msgs:
        fam = family(m, prefix)
        if fam:
            fams.setdefault(fam, []).append(m)
    for fam, ms in sorted(fams.items()):
        ms = sorted(ms, key=lambda m: m.key)
        keys = [m.key for m in ms]
        if len(set(keys)) != len(keys):
            raise DefError(f"two {fam} definitions share an api key")
        h.append(f"/* Size of the struct for {fam} `key` (0 for keys without a definition), and")
        h.append(" * type-erased decode/encode by key (`out`/`in` point to that struct).")
        h.append(" * Decode returns SL_EUNSUPPORTED for unknown keys or versions. */")
        h.append(f"size_t {prefix}_{fam}_struct_size(int16_t key);")
        h.append(f"enum sl_err {prefix}_{fam}_decode_any(struct wire_reader *r, int16_t key, "
                 "int16_t v, void *out) SL_MUST_USE;")
        h.append(f"void {prefix}_{fam}_encode_any(struct sl_buf *b, int16_t key, int16_t v, "
                 "const void *in);")
        h.append("")
        c.append(f"size_t {prefix}_{fam}_struct_size(int16_t key)")
        c.append("{")
        c.append("\tswitch (key) {")
        for m in ms:
            c.append(f"\tcase {m.key}:")
            c.append(f"\t\treturn sizeof(struct {m.cname});")
        c.append("\tdefault:")
        c.append("\t\treturn 0;")
        c.append("\t}")
        c.append("}")
        c.append("")
        c.append(f"enum sl_err {prefix}_{fam}_decode_any(struct wire_reader *r, int16_t key, "
                 "int16_t v, void *out)")
        c.append("{")
        c.append("\tswitch (key) {")
        for m in ms:
            c.append(f"\tcase {m.key}:")
            c.append(f"\t\treturn {m.cname}_decode(r, v, out);")
        c.append("\tdefault:")
        c.append("\t\treturn SL_EUNSUPPORTED;")
        c.append("\t}")
        c.append("}")
        c.append("")
        c.append(f"void {prefix}_{fam}_encode_any(struct sl_buf *b, int16_t key, int16_t v, "
                 "const void *in)")
        c.append("{")
        c.append("\tswitch (key) {")
        for m in ms:
            c.append(f"\tcase {m.key}:")
            c.append(f"\t\t{m.cname}_encode(b, v, in);")
            c.append("\t\treturn;")
        c.append("\tdefault:")
        c.append("\t\tSL_UNREACHABLE();")
        c.append("\t}")
        c.append("}")
        c.append("")
    # API table: keys with both a request and a response definition.
    if "request" in fams or "response" in fams:
        req = {m.key: m for m in fams.get("request", [])}
        rsp = {m.key: m for m in fams.get("response", [])}
        if set(req) != set(rsp):
            raise DefError(f"api keys {sorted(set(req) ^ set(rsp))} lack a request or response")
        for k in req:
            if req[k].versions != rsp[k].versions or req[k].flex != rsp[k].flex:
                raise DefError(f"api {k}: request and response versions differ")
        h.append(f"/* Every api with full definitions, ascending key. */")
        h.append(f"extern const struct {prefix}_api_info {prefix}_api_table[];")
        h.append(f"extern const size_t {prefix}_api_table_count;")
        c.append(f"const struct {prefix}_api_info {prefix}_api_table[] = {{")
        for k in sorted(req):
            m = req[k]
            fl = -1 if m.flex is None else m.flex[0]
            c.append(f"\t{{{k}, \"{m.name}\", {m.versions[0]}, {m.versions[1]}, {fl}}},")
        c.append("};")
        c.append(f"const size_t {prefix}_api_table_count = {len(req)};")
        c.append("")
    if "record" in fams:
        ms = sorted(fams["record"], key=lambda m: m.key)
        h.append(f"struct {prefix}_record_info {{")
        h.append("\tint16_t key;")
        h.append("\tconst char *name;")
        h.append("\tint16_t min_version;")
        h.append("\tint16_t max_version;")
        h.append("};")
        h.append(f"/* Every record type with a definition, ascending key. */")
        h.append(f"extern const struct {prefix}_record_info {prefix}_record_table[];")
        h.append(f"extern const size_t {prefix}_record_table_count;")
        c.append(f"const struct {prefix}_record_info {prefix}_record_table[] = {{")
        for m in ms:
            c.append(f"\t{{{m.key}, \"{m.name}\", {m.versions[0]}, {m.versions[1]}}},")
        c.append("};")
        c.append(f"const size_t {prefix}_record_table_count = {len(ms)};")
        c.append("")
    if apis:
        keys = [a[0] for a in apis]
        if len(set(keys)) != len(keys) or min(keys) < 0:
            raise DefError("apis.def: duplicate or negative api key")
        n = max(keys) + 1
        table = ["-2"] * n
        for k, _, fl in apis:
            table[k] = str(fl)
        h.append("/* First flexible version of any Kafka api key (apis.def): -1 never flexible,")
        h.append(" * -2 unknown key. */")
        h.append(f"int16_t {prefix}_api_flexible_min(int16_t key);")
        h.append("")
        c.append(f"static const int16_t {prefix}_flexible_min_table[{n}] = {{")
        for i in range(0, n, 16):
            c.append("\t" + ", ".join(table[i:i + 16]) + ",")
        c.append("};")
        c.append("")
        c.append(f"int16_t {prefix}_api_flexible_min(int16_t key)")
        c.append("{")
        c.append(f"\tif (key < 0 || key >= {n})")
        c.append("\t\treturn -2;")
        c.append(f"\treturn {prefix}_flexible_min_table[key];")
        c.append("}")
        c.append("")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--include", required=True)
    ap.add_argument("--out-h", required=True)
    ap.add_argument("--out-c", required=True)
    ap.add_argument("defs", nargs="+")
    a = ap.parse_args()
    msgs, apis = [], []
    try:
        for p in a.defs:
            m, ap_ = parse_file(p)
            msgs += m
            apis += ap_
        cnames = set()
        for m in msgs:
            check_and_resolve(m, a.prefix)
            for st in m.structs:
                if st.cname in cnames:
                    raise DefError(f"{m.where}: C name {st.cname} defined twice")
                cnames.add(st.cname)
        banner = ("/* generated by wiregen.py, do not edit. Sources: "
                  + " ".join(p.split("/")[-1] for p in a.defs) + " */")
        hs, cs = generate(msgs, apis, a.prefix, a.include, banner)
    except DefError as e:
        print(f"wiregen: {e}", file=sys.stderr)
        return 1
    for path, text in ((a.out_h, hs), (a.out_c, cs)):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
