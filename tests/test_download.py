"""The downloader against a local HTTP server serving a tiny archive in the official layout."""

import hashlib
import io
import re
import socket
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from optimlab.data import download
from optimlab.data.cifar10 import load_cifar10, save_cifar10
from optimlab.data.cli import main
from optimlab.data.download import ARCHIVE_NAME, DownloadError, download_cifar10

PARTIAL = f"{ARCHIVE_NAME}.partial"


def tiny_arrays(seed=0):
    """Random images and labels: X uint8 (N, 32, 32, 3), y int64 (N,)."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 20),
            rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 6))


def targz(files):
    """A .tar.gz in memory from {name: bytes}; names ending in '/' are directories."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name.rstrip("/"))
            if name.endswith("/"):
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """(tar.gz bytes in the official layout, the arrays it holds)."""
    arrays = tiny_arrays()
    root = save_cifar10(tmp_path_factory.mktemp("src") / "cifar-10-batches-py", *arrays)
    files = {"cifar-10-batches-py/": b"", "cifar-10-batches-py/readme.html": b"<html></html>"}
    files |= {f"cifar-10-batches-py/{p.name}": p.read_bytes() for p in sorted(root.iterdir())}
    return targz(files), arrays


def md5(data):
    return hashlib.md5(data).hexdigest()


class Handler(BaseHTTPRequestHandler):
    """Serves ``server.payload``; ``server.mode`` picks a behaviour:

    "range"         honours Range requests (206)
    "ignore_range"  always sends the whole file (200)
    "truncate"      promises the whole body, sends half, closes (every time)
    "drop_once"     like truncate on the first request, then honours Range
    "stall_once"    sends half, then goes silent for 2 s, on the first request
    "missing"       404
    """

    def do_GET(self):
        server = self.server
        server.ranges.append(self.headers.get("Range"))
        first_request = len(server.ranges) == 1
        if server.mode == "missing":
            self.send_error(404, "Not Found")
            return
        data, start = server.payload, 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match and server.mode != "ignore_range":
            start = int(match.group(1))
            if start >= len(data):
                self.send_error(416, "Range Not Satisfiable")
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        breaks = server.mode == "truncate" or (server.mode in ("drop_once", "stall_once")
                                               and first_request)
        if breaks:
            body = body[:len(body) // 2]
        self.wfile.write(body)
        self.wfile.flush()
        server.sent += len(body)
        if server.mode == "stall_once" and first_request:
            time.sleep(2)
        if breaks:
            self.close_connection = True

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def server(archive):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.payload, httpd.mode, httpd.ranges, httpd.sent = archive[0], "range", [], 0
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/{ARCHIVE_NAME}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def fetch(server, data_dir, **kwargs):
    kwargs.setdefault("md5", md5(server.payload))
    return download_cifar10(data_dir, url=server.url, progress=False, timeout=1.0, **kwargs)


def assert_installed(data_dir, arrays):
    assert sorted(p.name for p in data_dir.iterdir()) == ["cifar-10-batches-py"]
    for loaded, expected in zip(load_cifar10(data_dir / "cifar-10-batches-py"), arrays):
        np.testing.assert_array_equal(loaded, expected)


def assert_nothing_left(data_dir):
    assert list(data_dir.iterdir()) == []


def one_sentence(err):
    message = str(err.value)
    assert "\n" not in message and message.endswith(".")
    return message


# ------------------------------------------------------------------ success paths


def test_complete_download(server, tmp_path, archive, capsys):
    dest = fetch(server, tmp_path)
    assert dest == tmp_path / "cifar-10-batches-py"
    assert_installed(tmp_path, archive[1])
    assert server.ranges == [None] and server.sent == len(server.payload)
    assert "ready" in capsys.readouterr().out


def test_resumes_from_a_partial_file(server, tmp_path, archive):
    have = len(server.payload) * 2 // 5
    (tmp_path / PARTIAL).write_bytes(server.payload[:have])
    fetch(server, tmp_path)
    assert server.ranges == [f"bytes={have}-"]
    assert server.sent == len(server.payload) - have  # only the rest was transferred
    assert_installed(tmp_path, archive[1])


def test_complete_partial_file_is_only_verified(server, tmp_path, archive):
    (tmp_path / PARTIAL).write_bytes(server.payload)  # interrupted while extracting
    fetch(server, tmp_path)
    assert server.ranges == [f"bytes={len(server.payload)}-"] and server.sent == 0
    assert_installed(tmp_path, archive[1])


def test_server_ignoring_range_means_starting_over(server, tmp_path, archive):
    server.mode = "ignore_range"
    (tmp_path / PARTIAL).write_bytes(b"x" * 1000)  # would corrupt the file if appended to
    fetch(server, tmp_path)
    assert server.ranges == ["bytes=1000-"] and server.sent == len(server.payload)
    assert_installed(tmp_path, archive[1])


def test_dropped_connection_is_resumed(server, tmp_path, archive):
    server.mode = "drop_once"
    fetch(server, tmp_path)
    half = (len(server.payload)) // 2
    assert server.ranges == [None, f"bytes={half}-"]
    assert_installed(tmp_path, archive[1])


def test_stalled_server_times_out_and_is_resumed(server, tmp_path, archive):
    server.mode = "stall_once"
    started = time.monotonic()
    fetch(server, tmp_path)
    assert time.monotonic() - started < 2  # gave up on the stall after the 1 s timeout
    assert server.ranges[1] == f"bytes={len(server.payload) // 2}-"
    assert_installed(tmp_path, archive[1])


def test_present_data_is_left_alone(server, tmp_path, archive, capsys):
    dest = save_cifar10(tmp_path / "cifar-10-batches-py", *tiny_arrays(seed=1))
    before = {p.name: p.stat().st_mtime_ns for p in dest.iterdir()}
    assert fetch(server, tmp_path) == dest
    assert server.ranges == []
    assert {p.name: p.stat().st_mtime_ns for p in dest.iterdir()} == before
    assert "already" in capsys.readouterr().out


def test_broken_present_data_is_replaced(server, tmp_path, archive):
    broken = tmp_path / "cifar-10-batches-py"
    broken.mkdir()
    (broken / "data_batch_1").write_bytes(b"garbage")
    fetch(server, tmp_path)
    assert_installed(tmp_path, archive[1])


# ------------------------------------------------------------------ failure paths


def test_wrong_checksum(server, tmp_path):
    with pytest.raises(DownloadError) as err:
        fetch(server, tmp_path, md5="0" * 32)
    assert "checksum" in one_sentence(err) and "deleted" in one_sentence(err)
    assert_nothing_left(tmp_path)


def test_truncated_archive(server, tmp_path):
    server.payload = server.payload[:len(server.payload) // 2]
    with pytest.raises(DownloadError) as err:
        fetch(server, tmp_path)  # its own md5, so only extraction can notice
    assert "truncated or corrupt" in one_sentence(err)
    assert_nothing_left(tmp_path)


def test_connection_that_keeps_breaking(server, tmp_path):
    server.mode = "truncate"
    with pytest.raises(DownloadError) as err:
        fetch(server, tmp_path, retries=2)
    assert "broke off 3 times" in one_sentence(err)
    assert len(server.ranges) == 3
    assert_nothing_left(tmp_path)


def test_server_gone(tmp_path):
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError) as err:
        download_cifar10(tmp_path, url=f"http://127.0.0.1:{port}/x.tar.gz", progress=False,
                         timeout=1.0)
    assert "Could not reach 127.0.0.1" in one_sentence(err)
    assert_nothing_left(tmp_path)


def test_http_error(server, tmp_path):
    server.mode = "missing"
    with pytest.raises(DownloadError) as err:
        fetch(server, tmp_path)
    assert "HTTP 404" in one_sentence(err)
    assert_nothing_left(tmp_path)


def test_disk_error_while_extracting(server, tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tarfile.TarFile, "extractall", disk_full)
    with pytest.raises(DownloadError) as err:
        fetch(server, tmp_path)
    assert "No space left on device" in one_sentence(err)
    assert_nothing_left(tmp_path)


@pytest.mark.parametrize("member", [
    {"cifar-10-batches-py/../../escaped": b"x"},
    {"/tmp/absolute": b"x"},
])
def test_path_traversal_is_refused(server, tmp_path, member):
    server.payload = targz({"cifar-10-batches-py/": b"", **member})
    with pytest.raises(DownloadError) as err:
        fetch(server, tmp_path / "data")
    assert "outside" in one_sentence(err)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["data"]


def test_links_are_refused(server, tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        link = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    server.payload = buffer.getvalue()
    with pytest.raises(DownloadError) as err:
        fetch(server, tmp_path)
    assert "link" in one_sentence(err)
    assert_nothing_left(tmp_path)


def test_archive_without_batches(server, tmp_path):
    server.payload = targz({"cifar-10-batches-py/": b"", "cifar-10-batches-py/x": b"x"})
    with pytest.raises(DownloadError) as err:
        fetch(server, tmp_path)
    assert "not valid CIFAR-10" in one_sentence(err)
    assert_nothing_left(tmp_path)


def test_cli_prints_one_sentence_and_exits_1(server, tmp_path, capsys):
    status = main(["download", "--data-dir", str(tmp_path), "--url", server.url])
    assert status == 1  # the tiny archive does not have the official checksum
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(
        "optimlab-data: The downloaded archive's MD5 checksum")
    assert_nothing_left(tmp_path)


def test_defaults_are_the_official_archive():
    assert download.OFFICIAL_URL == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert download.OFFICIAL_MD5 == "c58f30108f718f92721af3b95e74349a"
