#!/usr/bin/python3
"""Validates Kubernetes manifests offline against the Kubernetes API's own
types, as Debian's python3-kubernetes generates them from the API's OpenAPI
schema (client version 22.6: Kubernetes 1.22's API, every field used here
is older than that).

    /usr/bin/python3 tests/kubernetes/validate.py FILE.yaml...

Strict where `kubectl apply --dry-run=client` is lax: every key must be a
field of its type (a misspelt `volumeMount` fails), every value must have
its field's type (str, int, bool, list, map, object), and the required
fields of each type must be there (the client's models refuse None for
them). Prints one line per object and exits 1 on the first file with
errors, after listing them all.
"""
import sys

import yaml
from kubernetes import client

PRIMITIVE = {"str": str, "int": int, "bool": bool, "float": (int, float), "date": str, "datetime": str}


def model_for(doc):
    """V1Deployment for apiVersion apps/v1, kind Deployment; V1Service for v1."""
    group_version = doc.get("apiVersion", "")
    version = group_version.split("/")[-1]
    name = version[0].upper() + version[1:] + doc.get("kind", "")
    return name if hasattr(client, name) else None


def check(value, typ, path, errors):
    if typ.startswith("list["):
        if not isinstance(value, list):
            errors.append(f"{path}: a list expected, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check(item, typ[5:-1], f"{path}[{i}]", errors)
        return
    if typ.startswith("dict("):
        if not isinstance(value, dict):
            errors.append(f"{path}: a map expected, got {type(value).__name__}")
            return
        inner = typ[typ.index(",") + 1:-1].strip()
        for key, item in value.items():
            check(item, inner, f"{path}.{key}", errors)
        return
    if typ == "object":  # IntOrString, Quantity, free-form
        return
    if typ in PRIMITIVE:
        ok = isinstance(value, PRIMITIVE[typ]) and not (typ == "int" and isinstance(value, bool))
        if not ok:
            errors.append(f"{path}: {typ} expected, got {value!r}")
        return
    model = getattr(client, typ)
    if not isinstance(value, dict):
        errors.append(f"{path}: a {typ} object expected, got {value!r}")
        return
    by_json = {json: attr for attr, json in model.attribute_map.items()}
    for key, item in value.items():
        if key not in by_json:
            errors.append(f"{path}.{key}: no such field in {typ}")
            continue
        check(item, model.openapi_types[by_json[key]], f"{path}.{key}", errors)
    # Required fields: the model's constructor refuses None for them.
    try:
        model(**{attr: value.get(json) for attr, json in model.attribute_map.items() if json in value})
    except ValueError as err:
        errors.append(f"{path}: {err}")
    except TypeError:
        pass


def main(files):
    failed = False
    for name in files:
        with open(name, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        for doc in docs:
            errors = []
            typ = model_for(doc)
            where = f"{name}: {doc.get('kind')} {doc.get('metadata', {}).get('name')}"
            if typ is None:
                errors.append(f"unknown apiVersion/kind {doc.get('apiVersion')}/{doc.get('kind')}")
            else:
                check(doc, typ, doc.get("kind", "?"), errors)
            if errors:
                failed = True
                print(f"invalid: {where}")
                for e in errors:
                    print(f"    {e}")
            else:
                print(f"valid: {where} ({typ})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
