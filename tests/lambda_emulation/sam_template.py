#!/usr/bin/env python3
"""Writes the template that `sam local invoke` runs in the tests, derived from template.yaml.

    .work/venv-sam/bin/python tests/lambda_emulation/sam_template.py OUT --arch x86_64 --code-dir DIR

Runs with the SAM CLI's interpreter (it parses and writes CloudFormation YAML with samcli's own
yamlhelper, so `!Ref`/`!Sub`/`!If` survive). Everything the functions get as deployed stays as it
is (runtime, handler, memory, timeouts, logging, environment, parameters), except:

- `Architectures`: the host's (x86_64 here) instead of arm64, so the release binaries that
  `cargo build --release` already made run without emulation and without a second cross-build;
- `CodeUri`: DIR/<LogicalId>, a folder holding that function's release binary as `bootstrap`
  (a provided.al2023 function runs any `bootstrap` executable); the cargo-lambda build metadata is
  dropped (`make sam-build` stays the deploy path);
- `VpcConfig` and `Layers` go (they mean nothing locally);
- four variables are declared that only a local S3/Secrets Manager needs (`sam local invoke
  --env-vars` can set only declared ones): AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SECRETS_MANAGER,
  S3_FORCE_PATH_STYLE, AWS_EC2_METADATA_DISABLED.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from samcli.yamlhelper import yaml_dump, yaml_parse

ROOT = Path(__file__).resolve().parents[2]
LOCAL_ONLY_VARIABLES = (
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "S3_FORCE_PATH_STYLE",
    "AWS_EC2_METADATA_DISABLED",
)


def derive(template: dict, arch: str, code_dir: Path) -> dict:
    function_globals = template["Globals"]["Function"]
    function_globals["Architectures"] = [arch]
    for key in ("VpcConfig", "Layers"):
        function_globals.pop(key, None)
    variables = function_globals["Environment"]["Variables"]
    for name in LOCAL_ONLY_VARIABLES:
        variables.setdefault(name, "")
    functions = {name: res for name, res in template["Resources"].items()
                 if res["Type"] == "AWS::Serverless::Function"}
    if not functions:
        sys.exit("sam_template.py: no AWS::Serverless::Function in the template")
    for name, resource in functions.items():
        resource.pop("Metadata", None)
        resource["Properties"]["CodeUri"] = str(code_dir / name)
    return template


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--arch", required=True, choices=("x86_64", "arm64"))
    ap.add_argument("--code-dir", required=True, type=Path)
    ap.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    args = ap.parse_args()
    template = derive(yaml_parse(args.template.read_text()), args.arch, args.code_dir.resolve())
    args.out.write_text(yaml_dump(template))
    for name in template["Resources"]:
        if template["Resources"][name]["Type"] == "AWS::Serverless::Function":
            print(name)


if __name__ == "__main__":
    main()
