"""`sam local invoke` as the runtime of the Lambda-emulation test (run_events.py --via sam).

Each event is sent with

    sam local invoke <IngestFunction|RollupFunction> -e <event> -t <derived template> --skip-pull-image ...

so every invocation is a fresh container of SAM's own invoke image: the base image
public.ecr.aws/lambda/provided:al2023-<arch> (built locally by scripts/lambda-base-image.sh; no
registry is reachable) plus the runtime interface emulator that SAM's PyPI package carries. The
functions run as deployed: template.yaml's runtime, handler, memory (the container's memory
limit), timeouts, logging and environment, with the database settings given as the template's
parameters, the password read from Secrets Manager (a secret in the local moto server) and TLS
verified against the test cluster's CA (copied next to `bootstrap` in the CodeUri folder). The
template is derived by sam_template.py (host architecture, CodeUri = the release binaries).

Networking: SAM CLI starts the container on Docker's default bridge whatever `--docker-network`
says (`host` is ignored since SAM CLI 1.9x: aws/aws-sam-cli#4236), so the container cannot reach
the services on the host's 127.0.0.1. For the length of the run, two TCP forwarders listen on the
bridge's gateway address (reachable from local containers only) and pass connections to
PostgreSQL and moto on 127.0.0.1; inside the container the gateway is `host.docker.internal`
(`--add-host`), a name the test cluster's certificate carries.
"""

from __future__ import annotations

import ipaddress
import json
import os
import platform
import shlex
import shutil
import socket
import subprocess
import threading
from pathlib import Path

FUNCTIONS = {"ingest": "IngestFunction", "rollup": "RollupFunction"}
HOST_ALIAS = "host.docker.internal"
SECRET_NAME = "ocp-summary/sam-local/db"
INVOKE_TIMEOUT = 600


def host_arch() -> str:
    machine = platform.machine()
    return {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[machine.lower()]


def docker_bridge_gateway() -> str:
    """The host's address on Docker's default bridge (what `host-gateway` means to Docker)."""
    out = subprocess.run(["docker", "network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}"],
                         check=True, capture_output=True, text=True).stdout
    for config in json.loads(out) or []:
        if config.get("Gateway"):
            return config["Gateway"]
        subnet = ipaddress.ip_network(config.get("Subnet", ""), strict=False)
        if subnet.version == 4:
            return str(subnet[1])
    raise RuntimeError(f"cannot tell the gateway of Docker's bridge network from {out.strip()}")


class Forwarder:
    """Listens on (bind_host, a free port) and pipes each connection to 127.0.0.1:target_port."""

    def __init__(self, bind_host: str, target_port: int):
        self.target_port = target_port
        self.server = socket.create_server((bind_host, 0))
        self.port = self.server.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
                try:
                    s.shutdown(how)
                except OSError:
                    pass

    def close(self) -> None:
        self.closed = True
        self.server.close()


class SamLocal:
    """Same interface as run_events.Emulator: start(), invoke(function, event) and stop()."""

    def __init__(self, sam: str, root: Path, work: Path, schema: str):
        self.sam = sam
        self.root = root
        self.work = work
        self.schema = schema
        self.forwarders: list[Forwarder] = []
        self.arch = host_arch()
        self.template = work / "sam" / "template.yaml"
        self.env_vars = work / "sam" / "env-vars.json"
        self.args: list[str] = []
        self.sam_env: dict[str, str] = {}
        self.calls = 0

    def describe(self) -> str:
        return (f"sam local invoke ({self.arch}, image public.ecr.aws/lambda/provided:al2023-{self.arch}); "
                f"template {self.template.relative_to(self.work)} derived from template.yaml; "
                f"schema {self.schema}; database via {HOST_ALIAS} (verify-full TLS, password from "
                f"Secrets Manager)")

    def _secret_arn(self, endpoint: str) -> str:
        import boto3  # in the project's environment (requirements.txt)

        sm = boto3.client("secretsmanager", endpoint_url=endpoint)
        value = json.dumps({"username": os.environ["PGUSER"], "password": os.environ["PGPASSWORD"]})
        try:
            return sm.create_secret(Name=SECRET_NAME, SecretString=value)["ARN"]
        except sm.exceptions.ResourceExistsException:
            sm.put_secret_value(SecretId=SECRET_NAME, SecretString=value)
            return sm.describe_secret(SecretId=SECRET_NAME)["ARN"]

    def start(self) -> None:
        s3_endpoint = os.environ["AWS_ENDPOINT_URL_S3"]
        s3_port = int(s3_endpoint.rsplit(":", 1)[1].rstrip("/"))
        gateway = docker_bridge_gateway()
        pg = Forwarder(gateway, int(os.environ["PGPORT"]))
        s3 = Forwarder(gateway, s3_port)
        self.forwarders = [pg, s3]
        secret_arn = self._secret_arn(s3_endpoint)

        # One CodeUri folder per function: its release binary as `bootstrap`, and the CA.
        code_dir = self.work / "sam" / "code"
        for function, logical_id in FUNCTIONS.items():
            folder = code_dir / logical_id
            folder.mkdir(parents=True, exist_ok=True)
            bootstrap = folder / "bootstrap"
            try:  # the release binary is large (debug info): a hard link where the file system allows
                os.link(self.root / "target" / "release" / function, bootstrap)
            except OSError:
                shutil.copy2(self.root / "target" / "release" / function, bootstrap)
            shutil.copy2(os.environ["PG_TEST_CA"], folder / "pg-ca.crt")
        sam_python = str(Path(self.sam).resolve().parent / "python")
        subprocess.run([sam_python, str(Path(__file__).with_name("sam_template.py")), str(self.template),
                        "--arch", self.arch, "--code-dir", str(code_dir)],
                       check=True, capture_output=True, text=True)
        endpoint = f"http://{HOST_ALIAS}:{s3.port}"
        self.env_vars.write_text(json.dumps({"Parameters": {
            "AWS_ENDPOINT_URL_S3": endpoint,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
            "S3_FORCE_PATH_STYLE": "true",
            "AWS_EC2_METADATA_DISABLED": "true",
        }}, indent=2))
        parameters = {
            "RawBucketName": "koku-bucket",
            "DbHost": HOST_ALIAS,
            "DbPort": str(pg.port),
            "DbName": os.environ["PGDATABASE"],
            "DbSchema": self.schema,
            "DbSecretArn": secret_arn,
            "DbSslMode": "verify-full",
            "DbSslRootCert": "/var/task/pg-ca.crt",
            "SubnetIds": "subnet-00000000",
            "SecurityGroupIds": "sg-00000000",
        }
        # SAM CLI gives a declared variable the shell's value before the template's: the services'
        # PGHOST, PGPORT, ... of this process would replace the parameters. SAM gets none of them.
        import yaml  # in the project's environment (requirements.txt); the derived template has no tags

        derived = yaml.safe_load(self.template.read_text())
        declared = set(derived["Globals"]["Function"]["Environment"]["Variables"])
        for resource in derived["Resources"].values():
            declared |= set(resource.get("Properties", {}).get("Environment", {}).get("Variables", {}))
        self.sam_env = {k: v for k, v in os.environ.items() if k not in declared}
        self.sam_env["SAM_CLI_TELEMETRY"] = "0"
        self.args = [
            "--template", str(self.template), "--env-vars", str(self.env_vars), "--skip-pull-image",
            "--add-host", f"{HOST_ALIAS}:{gateway}",
            "--parameter-overrides", " ".join(f"{k}={v}" for k, v in parameters.items()),
        ]

    def invoke(self, function: str, event: Path) -> tuple[bool, object]:
        """(succeeded, parsed response or error text)."""
        self.calls += 1
        command = [self.sam, "local", "invoke", FUNCTIONS[function], "--event", str(event), *self.args]
        out = subprocess.run(command, cwd=self.work, env=self.sam_env, capture_output=True, text=True,
                             timeout=INVOKE_TIMEOUT)
        log_file = self.work / f"sam-{self.calls:02d}-{function}.log"
        log_file.write_text(f"$ {shlex.join(command)}\n---- stderr\n{out.stderr}\n---- stdout\n{out.stdout}\n")
        lines = [line for line in out.stdout.splitlines() if line.strip()]
        if out.returncode != 0 or not lines:
            return False, f"sam exited with {out.returncode}; see {log_file}: {out.stderr.strip()[-600:]}"
        try:
            result = json.loads(lines[-1])
        except json.JSONDecodeError:
            return False, lines[-1]
        if isinstance(result, dict) and "errorType" in result:
            return False, result
        return True, result

    def stop(self) -> None:
        for f in self.forwarders:
            f.close()
