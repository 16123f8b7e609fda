#!/usr/bin/env python3
"""Validate Sunshine frame payloads against proto-schemas/ with an independent validator.

Input: a JSON-lines file, one frame per line:
    {"method": "hello", "frame": {...the frame payload exactly as sent...}}
    {"method": "hello", "frame": {...}, "expect": "invalid"}   # a negative control
For a response, "method" names the method it answers. Every frame is checked against
envelope.schema.json, then its params or result against the method's schema (methods.json).

Prints one line per failure and a closing "N passed, M failed"; exits 1 if anything failed.
"""
import argparse
import json
import pathlib
import sys

from jsonschema import Draft202012Validator

try:  # jsonschema ≥ 4.18 resolves $ref through a referencing.Registry
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
except ImportError:  # older jsonschema (Debian's python3-jsonschema) uses a RefResolver store
    Registry = None


def load_registry(root: pathlib.Path):
    schemas = {}
    for path in sorted(root.rglob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(contents)
        schemas[path.relative_to(root).as_posix()] = contents
    if Registry is None:
        return schemas, {schema["$id"]: schema for schema in schemas.values()}
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012)) for schema in schemas.values()
    )
    return schemas, registry


def make_validator(schema, registry):
    if Registry is None:
        from jsonschema import RefResolver

        return Draft202012Validator(schema, resolver=RefResolver.from_schema(schema, store=registry))
    return Draft202012Validator(schema, registry=registry)


def problems(frame, method, schemas, registry, methods):
    def check(schema_file, instance, what):
        validator = make_validator(schemas[schema_file], registry)
        return [f"{what}: {error.message} at /{'/'.join(map(str, error.absolute_path))}" for error in validator.iter_errors(instance)]

    found = check("envelope.schema.json", frame, "envelope")
    if found or not isinstance(frame, dict):
        return found
    entry = methods.get(method)
    if entry is None:
        return [f"method {method!r} is not in methods.json"]
    if "method" in frame:
        if frame["method"] != method:
            return [f"frame names method {frame['method']!r}, line says {method!r}"]
        is_request = "id" in frame
        if is_request != (entry["kind"] == "request"):
            return [f"{method} is a {entry['kind']}, but the frame {'has' if is_request else 'lacks'} an id"]
        return check(entry["params"], frame["params"], f"{method} params")
    if "result" in frame:
        if "result" not in entry:
            return [f"{method} is a notification and has no result"]
        return check(entry["result"], frame["result"], f"{method} result")
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schemas", required=True, type=pathlib.Path, help="the proto-schemas directory")
    parser.add_argument("frames", type=pathlib.Path, help="a JSON-lines file of frames")
    arguments = parser.parse_args()

    schemas, registry = load_registry(arguments.schemas)
    methods = json.loads((arguments.schemas / "methods.json").read_text(encoding="utf-8"))["methods"]
    passed = failed = 0
    for number, line in enumerate(arguments.frames.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        item = json.loads(line)
        found = problems(item["frame"], item["method"], schemas, registry, methods)
        expect_invalid = item.get("expect") == "invalid"
        if bool(found) == expect_invalid:
            passed += 1
        else:
            failed += 1
            if expect_invalid:
                print(f"line {number} ({item['method']}): expected the schemas to reject it, but they accepted it")
            for problem in found:
                print(f"line {number} ({item['method']}): {problem}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
