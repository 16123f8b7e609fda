#!/usr/bin/env python3
"""Validate what a `sunshine` command printed with --json against its schema in proto-schemas/.

Usage: validate-output.py --schemas proto-schemas SCHEMA FILE
SCHEMA is a path inside proto-schemas (e.g. cli/local-status.schema.json, or a command's entry
in cli/commands.json such as methods/status.result.schema.json); FILE holds one JSON document, or
JSON lines (one document a line, as `sunshine dashboard --json` streams them).

Prints one line per problem and a closing "N passed, M failed"; exits 1 if anything failed.
"""
import argparse
import importlib.util
import json
import pathlib
import sys

frames = importlib.util.spec_from_file_location("validate_frames", pathlib.Path(__file__).with_name("validate-frames.py"))
validate_frames = importlib.util.module_from_spec(frames)
frames.loader.exec_module(validate_frames)


def documents(text):
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schemas", required=True, type=pathlib.Path, help="the proto-schemas directory")
    parser.add_argument("schema", help="the schema's path inside the schemas directory")
    parser.add_argument("file", type=pathlib.Path, help="the command's output")
    arguments = parser.parse_args()

    schemas, registry = validate_frames.load_registry(arguments.schemas)
    validator = validate_frames.make_validator(schemas[arguments.schema], registry)
    passed = failed = 0
    for number, document in enumerate(documents(arguments.file.read_text(encoding="utf-8")), start=1):
        errors = list(validator.iter_errors(document))
        for error in errors:
            print(f"document {number}: {error.message} at /{'/'.join(map(str, error.absolute_path))}")
        passed, failed = (passed + 1, failed) if not errors else (passed, failed + 1)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
