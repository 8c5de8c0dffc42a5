#!/usr/bin/python3
# embed-openapi.py YAML C-FILE: write docs/openapi.yaml as compact JSON into
# a C file (gateway_openapi_json), so the gateway serves the document
# without reading any file at run time, with the document's path templates
# (gateway_route_templates: the route table's paths, which sql/rest_routes.sql
# checks against the document), by which the gateway's metrics name a
# request's route.  Run by the Makefile.
import json
import sys

import yaml


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    templates = sorted(doc["paths"])
    for t in templates:
        # a template is printed as a label value: no escaping wanted
        if not t.startswith("/") or any(c in t for c in '"\\\n?#') or not t.isascii():
            sys.exit("embed-openapi.py: path %r cannot be a metrics label" % t)
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    lines = []
    for i in range(0, len(data), 64):
        chunk = data[i:i + 64]
        lines.append('\t"' + "".join(
            chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C, 0x3F) else "\\%03o" % b
            for b in chunk) + '"')
    with open(dst, "w", encoding="ascii") as f:
        f.write("/* Generated from %s by gateway/embed-openapi.py: do not edit. */\n" % src)
        f.write("#include \"openapi.h\"\n\n")
        f.write("const char gateway_openapi_json[] =\n%s;\n" % "\n".join(lines or ['\t""']))
        f.write("const size_t gateway_openapi_json_len = %d;\n" % len(data))
        f.write("\nconst char *const gateway_route_templates[] = {\n%s\n};\n"
                % "\n".join('\t"%s",' % t for t in templates))
        f.write("const int gateway_route_count = %d;\n" % len(templates))


if __name__ == "__main__":
    main()
