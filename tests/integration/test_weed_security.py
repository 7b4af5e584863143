"""The appliance's weed refuses whoever lacks its keys, on every port.

Every process on the box reaches loopback (a webhook target, another local
user), so each of weed's HTTP ports (master, volume, filer) and gRPC ports
(HTTP port + 10000, and their unix sockets) is tried here without the
appliance's keys (no client certificate, no token or a forged one): each attempt
must be refused and leave the blobs as they were. Each attempt is also made with
the keys, so a refusal is never just a broken request.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
import requests
import urllib3

from appliance.adapters.seaweed.credentials import WeedCredentials
from appliance.adapters.seaweed.process import WeedServer, weed_binary
from appliance.adapters.seaweed.tokens import JwtKeys, WeedAuth

pytestmark = pytest.mark.integration
OCTETS = {"Content-Type": "application/octet-stream"}


@pytest.fixture
def keyed(weed_server: WeedServer) -> requests.Session:
    return weed_server.client_session()


@pytest.fixture(params=["no token", "forged token"])
def stranger(request: pytest.FixtureRequest) -> requests.Session:
    """A local process without the keys: no client certificate, any server
    certificate, and no token or one signed with keys of its own."""
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    s = requests.Session()
    s.trust_env = False
    s.verify = False
    if request.param == "forged token":
        s.auth = WeedAuth(JwtKeys(*(os.urandom(32) for _ in range(4))))
    return s


def both_schemes(url: str) -> list[str]:
    """The URL over http and https: a stranger tries both."""
    rest = url.split("://", 1)[1]
    return [f"http://{rest}", f"https://{rest}"]


def refused(call: Callable[[], requests.Response], secret: bytes = b"") -> bool:
    """The request failed in the TLS handshake, or was answered with a refusal
    that carries nothing of the blob."""
    try:
        r = call()
    except requests.RequestException:
        return True
    return r.status_code in (400, 401, 403) and (not secret or secret not in r.content)


def volume_url(server: WeedServer, keyed: requests.Session, fid: str) -> str:
    vid = fid.split(",")[0]
    r = keyed.get(f"{server.master_url}/dir/lookup", params={"volumeId": vid})
    return f"http://{r.json()['locations'][0]['url']}/{fid}"


def test_master_assign_and_volume_write_need_the_key(
    weed_server: WeedServer, keyed: requests.Session, stranger: requests.Session
) -> None:
    for url in both_schemes(f"{weed_server.master_url}/dir/assign"):
        assert refused(lambda: stranger.get(url, timeout=10)), url  # noqa: B023
    fid = keyed.get(f"{weed_server.master_url}/dir/assign").json()["fid"]
    target = volume_url(weed_server, keyed, fid)
    for url in both_schemes(target):
        put = lambda: stranger.put(url, data=b"planted", headers=OCTETS, timeout=10)  # noqa: B023, E731
        assert refused(put), url
    assert keyed.get(target).status_code == 404  # nothing was written
    assert keyed.put(target, data=b"mine", headers=OCTETS).status_code == 201


def test_volume_read_and_delete_need_the_key(
    weed_server: WeedServer, keyed: requests.Session, stranger: requests.Session
) -> None:
    secret = uuid.uuid4().hex.encode()
    fid = keyed.get(f"{weed_server.master_url}/dir/assign").json()["fid"]
    target = volume_url(weed_server, keyed, fid)
    assert keyed.put(target, data=secret, headers=OCTETS).status_code == 201
    for url in both_schemes(target):
        assert refused(lambda: stranger.get(url, timeout=10), secret), url  # noqa: B023
        assert refused(lambda: stranger.delete(url, timeout=10)), url  # noqa: B023
    assert keyed.get(target).content == secret


def test_filer_read_move_and_delete_need_the_key(
    weed_server: WeedServer, keyed: requests.Session, stranger: requests.Session
) -> None:
    secret = uuid.uuid4().hex.encode()
    folder = f"{weed_server.filer_url}/ahoy-security-test/{uuid.uuid4().hex}"
    path = f"{folder}/blob"
    assert keyed.put(path, data=secret, headers=OCTETS).status_code < 300
    moved = f"{folder}/moved?mv.from={path.split(weed_server.filer_url, 1)[1]}"
    for scheme_url in both_schemes(path):
        assert refused(lambda: stranger.get(scheme_url, timeout=10), secret), scheme_url  # noqa: B023
        listing = scheme_url.rsplit("/", 1)[0] + "/"
        assert refused(lambda: stranger.get(listing, timeout=10), b"blob"), listing  # noqa: B023
        put = lambda: stranger.put(scheme_url, data=b"planted", timeout=10)  # noqa: B023, E731
        assert refused(put), scheme_url
        assert refused(lambda: stranger.delete(scheme_url, timeout=10)), scheme_url  # noqa: B023
    for scheme_url in both_schemes(moved):
        assert refused(lambda: stranger.post(scheme_url, timeout=10)), scheme_url  # noqa: B023
    tus = f"{weed_server.filer_url}/.tus/ahoy-security-test/{uuid.uuid4().hex}"
    start = {"Tus-Resumable": "1.0.0", "Upload-Length": "7"}  # a resumable upload
    for url in both_schemes(tus):
        assert refused(lambda: stranger.post(url, headers=start, timeout=10)), url  # noqa: B023
    assert keyed.get(path).content == secret
    assert keyed.get(f"{folder}/moved").status_code == 404
    assert keyed.post(moved).status_code < 300  # the same move with the key works
    assert keyed.post(tus, headers=start).status_code == 201


def test_grpc_ports_need_the_key(weed_server: WeedServer) -> None:
    """Raw gRPC calls on every gRPC port and unix socket, without and with the key."""
    assert weed_server.ports is not None and weed_server.credentials is not None
    creds = weed_server.credentials
    tls = grpc.ssl_channel_credentials(
        creds.ca.read_bytes(), creds.client_key.read_bytes(), creds.client_cert.read_bytes()
    )
    grpc_ports = weed_server.ports.all()[3:]
    sockets = [
        f"unix:/tmp/seaweedfs-{role}-grpc-{port}.sock"
        for role, port in zip(("master", "volume", "filer"), grpc_ports, strict=True)
    ]
    calls = {
        "master": "/master_pb.Seaweed/GetMasterConfiguration",
        "volume": "/volume_server_pb.VolumeServer/VolumeServerStatus",
        "filer": "/filer_pb.SeaweedFiler/GetFilerConfiguration",
    }
    targets = [f"127.0.0.1:{p}" for p in grpc_ports] + sockets
    for target, method in zip(targets, list(calls.values()) * 2, strict=True):
        with grpc.insecure_channel(target) as plain:
            with pytest.raises(grpc.RpcError) as err:
                plain.unary_unary(method)(b"", timeout=5)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE, target
        options = [("grpc.ssl_target_name_override", "127.0.0.1")]
        if target.startswith("unix:") and not Path(target[5:]).exists():
            continue  # weed may not make a socket; the TCP port above is the same server
        with grpc.secure_channel(target, tls, options=options) as signed:
            signed.unary_unary(method)(b"", timeout=5)  # answers: the probe itself is sound


def test_weed_tools_cannot_write_without_the_key(
    weed_server: WeedServer, keyed: requests.Session, tmp_path: Path
) -> None:
    """`weed upload -master=` and `weed filer.copy` go over gRPC: run from a
    directory with no security.toml and no WEED_* variables, they are refused."""
    assert weed_server.ports is not None
    ports = weed_server.ports
    src = tmp_path / "planted.txt"
    src.write_text("planted")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEED_")}
    env["HOME"] = str(tmp_path)
    folder = f"/ahoy-security-test/{uuid.uuid4().hex}/"
    for args in (
        ["upload", f"-master=127.0.0.1:{ports.master}", str(src)],
        ["filer.copy", str(src), f"http://127.0.0.1:{ports.filer}{folder}"],
    ):
        done = subprocess.run(
            [str(weed_binary()), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            timeout=60,
        )
        assert done.returncode != 0, (args, done.stdout[-500:], done.stderr[-500:])
        assert b'"fid"' not in done.stdout
    assert keyed.get(f"{weed_server.filer_url}{folder}planted.txt").status_code == 404


def test_keys_are_private_and_never_logged(weed_server: WeedServer) -> None:
    assert weed_server.credentials is not None
    creds = weed_server.credentials
    assert creds.dir.stat().st_mode & 0o777 == 0o700
    assert weed_server.data_dir.stat().st_mode & 0o777 == 0o700
    for f in creds.dir.iterdir():
        assert f.stat().st_mode & 0o777 == 0o600, f
    secrets = ["".join(p.read_text().splitlines()[1:3]) for p in (creds.weed_key, creds.client_key)]
    keys = creds.jwt_keys()
    secrets += [k.decode() for k in (keys.volume_write, keys.volume_read, keys.filer_write)]
    secrets.append(keys.filer_read.decode())
    assert keys.filer_read.decode() not in repr(keys)
    for log in weed_server.log_dir.iterdir():
        if log.is_file():
            text = log.read_text(errors="replace")
            assert "PRIVATE KEY" not in text
            assert not any(s in text.replace("\n", "") for s in secrets), log


def test_the_filer_socket_wants_a_token_and_is_out_of_other_users_reach(
    weed_server: WeedServer,
) -> None:
    """The filer serves its HTTP API on a unix socket too: it checks tokens there,
    and only its owner may open it."""
    sock = weed_server._filer_socket()
    assert sock.is_socket()
    assert sock.parent.stat().st_mode & 0o077 == 0
    for request in (b"GET / HTTP/1.0\r\n\r\n", b"DELETE /.ahoy-ready HTTP/1.0\r\n\r\n"):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(str(sock))
            s.sendall(request)
            answer = s.recv(200)
        assert answer.startswith(b"HTTP/1.0 401"), answer
    # The venv may sit where another user cannot run it: the system's python.
    python = "/usr/bin/python3"
    if os.geteuid() != 0 or not os.access(python, os.X_OK):
        pytest.skip("trying it as another user needs root and /usr/bin/python3")
    probe = "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])"
    done = subprocess.run(
        [python, "-c", probe, str(sock)], user=65534, capture_output=True, timeout=30
    )
    assert done.returncode != 0
    assert b"PermissionError" in done.stderr


def test_credentials_are_reused_and_remade_when_broken(tmp_path: Path) -> None:
    first = WeedCredentials.ensure(tmp_path / "security")
    pem = first.client_key.read_bytes()
    assert WeedCredentials.ensure(tmp_path / "security").client_key.read_bytes() == pem
    first.ca.write_text("not a certificate")
    again = WeedCredentials.ensure(tmp_path / "security")
    assert again.usable() and again.client_key.read_bytes() != pem
    assert sorted(p.name for p in tmp_path.iterdir()) == ["security"]  # nothing left beside
