#!/usr/bin/python3
# openapi-routes.py [docs/openapi.yaml]: the routes the API document
# describes, as a JSON array of {method, path, operation_id, name, source,
# type, minimum} (one row per parameter, and one with name null per
# operation), so that sql/rest_routes.sql can compare them with the route
# table orders.api_operations.  Operations marked "x-served-by: gateway"
# are answered by the gateway itself, not by api.dispatch: left out.
# Header parameters are left out (the route table has none); a request
# body (JSON, else a form) gives one row per top-level member of its schema.
import json
import sys

import yaml



def param_type(schema):
    """The route table's type of a parameter: an RFC 3339 date-time is timestamp."""
    if schema.get("type") == "string" and schema.get("format") == "date-time":
        return "timestamp"
    return schema.get("type")

def deref(doc, node):
    """Follow local $refs (#/components/...)."""
    while isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "docs/openapi.yaml"
    with open(src, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    rows = []
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete", "head", "options"):
                continue
            if op.get("x-served-by") == "gateway":
                continue
            base = {"method": method.upper(), "path": path, "operation_id": op.get("operationId")}
            rows.append(dict(base, name=None, source=None, type=None, minimum=None))
            for p in item.get("parameters", []) + op.get("parameters", []):
                p = deref(doc, p)
                if p["in"] == "header":
                    continue
                schema = deref(doc, p.get("schema", {}))
                rows.append(dict(base, name=p["name"], source=p["in"], type=param_type(schema),
                                 minimum=schema.get("minimum")))
            body = op.get("requestBody")
            if body:
                content = deref(doc, body)["content"]
                media = content.get("application/json") or content["application/x-www-form-urlencoded"]
                schema = deref(doc, media["schema"])
                for name, member in schema.get("properties", {}).items():
                    member = deref(doc, member)
                    rows.append(dict(base, name=name, source="body", type=member.get("type"),
                                     minimum=member.get("minimum")))
    json.dump(rows, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
