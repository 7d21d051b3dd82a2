"""Real identity servers for the sign-in tests, each started once per test run on a loopback
port of its own and stopped afterwards:

- ``oidc_provider``: the npm package ``oidc-provider`` run by Node (tests/identity/
  oidc_provider.mjs), with SRM as its client and the test people;
- ``ldap_directory``: Debian's ``slapd`` with a throw-away configuration and the test
  directory of tests/identity/directory.ldif.

Outside CI a missing program skips these tests; with CI=true it fails them (``make test``
installs Node's packages and Debian's slapd first).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.test import override_settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing(what: str) -> None:
    """A server's program is not installed: a failure in CI, a skip elsewhere."""
    message = f"{what} (`make test` installs it)"
    if CI:
        pytest.fail(f"{message}; CI=true runs every test", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: list[str], *, port: int, what: str, log: Path, timeout: float = 30.0,
          **kwargs) -> subprocess.Popen:
    """Start a server whose output goes to ``log`` (never a pipe nobody reads, which would
    block it once full) and wait until it listens on ``port``."""
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **kwargs)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.05)
    stop(process)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s:\n"
                       f"{log.read_text()}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


# --- The OpenID provider ----------------------------------------------------------------------
CLIENT_ID = "srm"
CLIENT_SECRET = "srm-test-secret"
PROVIDER_NAME = "Example Corp"


@pytest.fixture(scope="session")
def oidc_signing_key(tmp_path_factory):
    """The provider's RSA signing key (the tests sign ID tokens with it too), as a JWKS file."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    jwk.pop("key_ops", None)  # ["sign"] only: the provider could not verify its own tokens
    jwk.update(kid="srm-test-key", use="sig", alg="RS256")
    path = tmp_path_factory.mktemp("oidc") / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return SimpleNamespace(path=path, pem=pem, kid="srm-test-key")


@pytest.fixture(scope="session")
def oidc_provider(oidc_signing_key):
    node = shutil.which("node")
    script = HERE / "oidc_provider.mjs"
    if node is None:
        missing("Node.js is not installed")
    if not (ROOT / "node_modules" / "oidc-provider").is_dir():
        missing("the npm package oidc-provider is not installed (npm ci)")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {
        **os.environ, "PORT": str(port), "JWKS_FILE": str(oidc_signing_key.path),
        "NODE_ENV": "test",
    }
    started = time.monotonic()
    process = start([node, str(script)], port=port, what="the OpenID provider", cwd=ROOT,
                    env=env, log=oidc_signing_key.path.with_name("provider.log"))
    try:
        yield SimpleNamespace(issuer=issuer, port=port, key=oidc_signing_key,
                              started_in=time.monotonic() - started)
    finally:
        stop(process)


@pytest.fixture
def oidc_settings(oidc_provider):
    """SRM configured for the test provider, as the OIDC_* environment variables would."""
    csp = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    csp["DIRECTIVES"]["form-action"] = [*csp["DIRECTIVES"]["form-action"], oidc_provider.issuer]
    with override_settings(
        OIDC_ISSUER=oidc_provider.issuer, OIDC_RP_CLIENT_ID=CLIENT_ID,
        OIDC_RP_CLIENT_SECRET=CLIENT_SECRET, OIDC_PROVIDER_NAME=PROVIDER_NAME,
        OIDC_CLAIM_GROUPS="groups", OIDC_GROUP_AGENT="srm-agents",
        AUTHENTICATION_BACKENDS=[
            "axes.backends.AxesStandaloneBackend",
            "governance.identity.oidc.ProviderBackend",
            "governance.identity.passwords.LocalPasswordBackend",
        ],
        CONTENT_SECURITY_POLICY=csp,
    ):
        yield oidc_provider


# --- The LDAP directory -----------------------------------------------------------------------
SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
LDAP_SUFFIX = "dc=example,dc=com"


@pytest.fixture(scope="session")
def ldap_directory(tmp_path_factory):
    """Debian's slapd with the test directory, on a loopback port, for the whole run."""
    if not (Path(SLAPD).exists() and Path(SLAPADD).exists()):
        missing(f"{SLAPD} is not installed (Debian's slapd)")
    started = time.monotonic()
    base = tmp_path_factory.mktemp("slapd")
    config, data = base / "slapd.d", base / "data"
    config.mkdir()
    data.mkdir()
    (base / "config.ldif").write_text(
        (HERE / "slapd-config.ldif").read_text().replace("@DIR@", str(base)))
    for database, ldif in (("0", base / "config.ldif"), ("1", HERE / "directory.ldif")):
        subprocess.run([SLAPADD, "-n", database, "-F", str(config), "-l", str(ldif)],
                       check=True, capture_output=True, timeout=30)
    port = free_port()
    # -d 0: in the foreground (stopped with the process), no debug output.
    process = start([SLAPD, "-h", f"ldap://127.0.0.1:{port}/", "-F", str(config), "-d", "0"],
                    port=port, what="slapd", log=base / "slapd.log")
    try:
        yield SimpleNamespace(uri=f"ldap://127.0.0.1:{port}", port=port,
                              started_in=time.monotonic() - started)
    finally:
        stop(process)


LDAP_ENVIRONMENT = {
    "LDAP_BIND_DN": f"cn=srm,ou=services,{LDAP_SUFFIX}",
    "LDAP_BIND_PASSWORD": "srm-bind-secret",
    "LDAP_USER_BASE": f"ou=people,{LDAP_SUFFIX}",
    "LDAP_USER_FILTER": "(&(objectClass=inetOrgPerson)(uid=%(user)s)(!(employeeType=disabled)))",
    "LDAP_GROUP_BASE": f"ou=groups,{LDAP_SUFFIX}",
    "LDAP_GROUP_OPS_LEADER": f"cn=srm-ops-leaders,ou=groups,{LDAP_SUFFIX}",
    "LDAP_GROUP_APPROVER": f"cn=srm-approvers,ou=groups,{LDAP_SUFFIX}",
    "LDAP_GROUP_AGENT": f"cn=srm-agents,ou=groups,{LDAP_SUFFIX}",
    "LDAP_TIMEOUT": "3",
}


@pytest.fixture
def ldap_settings_for(monkeypatch):
    """``ldap_settings_for(uri)``: SRM configured for the directory at ``uri`` exactly as the
    LDAP_* environment variables of LDAP_ENVIRONMENT would configure it."""
    import environ

    from governance.identity.ldap_settings import ldap_settings

    def _settings(uri: str, **extra: str) -> override_settings:
        for name, value in {**LDAP_ENVIRONMENT, "LDAP_SERVER_URI": uri, **extra}.items():
            monkeypatch.setenv(name, value)
        return override_settings(
            **ldap_settings(environ.Env()), LDAP_SERVER_URI=uri,
            AUTHENTICATION_BACKENDS=[
                "axes.backends.AxesStandaloneBackend",
                "governance.identity.ldap.DirectoryBackend",
                "governance.identity.passwords.LocalPasswordBackend",
            ])

    return _settings


@pytest.fixture
def ldap_configured(ldap_directory, ldap_settings_for):
    with ldap_settings_for(ldap_directory.uri):
        yield ldap_directory
