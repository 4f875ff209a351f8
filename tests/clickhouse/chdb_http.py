"""A ClickHouse HTTP interface in front of chdb, for tests.

No modern clickhouse-server installs on this machine; chdb embeds the
ClickHouse 26.9 engine in-process but has no server. This front end serves
the part of ClickHouse's HTTP protocol the clickhouse exporter uses:

  GET /ping                              -> "Ok.\n"
  GET|POST /?query=SQL[&database=D]      -> the result (TabSeparated unless
                                            the query names a FORMAT)
  POST /?query=INSERT ... FORMAT F  body -> rows in format F from the body
  POST /  body=SQL                       -> the body is the query

with credentials from X-ClickHouse-User/X-ClickHouse-Key, HTTP basic auth
or user=/password= parameters, checked against CHDB_HTTP_USER and
CHDB_HTTP_PASSWORD; request bodies with Content-Encoding gzip, deflate,
zstd or lz4 (frame); other parameters applied as settings (SET k = v)
before the query; errors as ClickHouse sends them: "Code: N. DB::Exception:
..." with X-ClickHouse-Exception-Code and status 403 (authentication), 404
(unknown table or database), 400 (syntax and bad input) or 500.

Usage: chdb_http.py PORT DATA_DIR. Queries run one at a time (the embedded
engine is one session).
"""

import base64
import gzip
import os
import re
import sys
import tempfile
import threading
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import chdb
from chdb import session as chdb_session

try:
    import lz4.frame as lz4_frame
except ImportError:  # pragma: no cover - listed in requirements.txt
    lz4_frame = None
try:
    import zstandard
except ImportError:  # pragma: no cover
    zstandard = None

USER = os.environ.get("CHDB_HTTP_USER", "default")
PASSWORD = os.environ.get("CHDB_HTTP_PASSWORD", "")
# Parameters that are part of the protocol, not settings.
PROTOCOL_PARAMS = {"query", "database", "user", "password", "default_format",
                   "query_id", "session_id", "compress", "decompress"}
INSERT = re.compile(r"^\s*(INSERT\s+INTO\s+.+?)\s+FORMAT\s+(\w+)\s*;?\s*$",
                    re.IGNORECASE | re.DOTALL)
HAS_FORMAT = re.compile(r"\bFORMAT\s+\w+\s*;?\s*$", re.IGNORECASE)
CODE = re.compile(r"Code:\s*(\d+)")
STATUS = {516: 403, 60: 404, 81: 404, 62: 400, 27: 400, 33: 400, 53: 400,
          16: 400, 47: 400, 117: 400}

LOCK = threading.Lock()
SESSION = None
SPOOL = None


def decompress(body, encoding):
    encoding = (encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "zstd" and zstandard is not None:
        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    if encoding == "lz4" and lz4_frame is not None:
        return lz4_frame.decompress(body)
    raise ValueError(f"Code: 1. DB::Exception: Unknown HTTP content encoding: {encoding}. (UNSUPPORTED_METHOD)")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, code=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        if code is not None:
            self.send_header("X-ClickHouse-Exception-Code", str(code))
        self.end_headers()
        self.wfile.write(data)

    def fail(self, message):
        match = CODE.search(message)
        code = int(match.group(1)) if match else 1000
        if not message.startswith("Code:"):
            message = f"Code: {code}. DB::Exception: {message}"
        self.reply(STATUS.get(code, 500), message.rstrip() + "\n", code)

    def authenticated(self, params):
        user = self.headers.get("X-ClickHouse-User") or params.get("user")
        key = self.headers.get("X-ClickHouse-Key") or params.get("password")
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            user, _, key = base64.b64decode(auth[6:]).decode().partition(":")
        if (user or "default") == USER and (key or "") == PASSWORD:
            return True
        self.fail(f"Code: 516. DB::Exception: {user or 'default'}: Authentication failed: "
                  "password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)")
        return False

    def do_GET(self):
        self.handle_query(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.handle_query(body)

    def handle_query(self, body):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/ping":
            self.reply(200, "Ok.\n")
            return
        params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        if not self.authenticated(params):
            return
        try:
            body = decompress(body, self.headers.get("Content-Encoding"))
        except Exception as e:  # noqa: BLE001 - reported to the client
            self.fail(str(e))
            return
        query = params.get("query")
        if query is None:
            query, body = body.decode(), b""
        settings = {k: v for k, v in params.items() if k not in PROTOCOL_PARAMS}
        with LOCK:
            try:
                result = self.run(query, body, params.get("database"), settings)
            except Exception as e:  # noqa: BLE001 - reported to the client
                self.fail(str(e))
                return
        self.reply(200, result)

    def run(self, query, body, database, settings):
        if database:
            SESSION.query(f"USE `{database}`")
        for key, value in settings.items():
            if not re.fullmatch(r"[A-Za-z0-9_]+", key):
                raise ValueError(f"Code: 115. DB::Exception: Unknown setting {key}. (UNKNOWN_SETTING)")
            literal = value if re.fullmatch(r"-?[0-9.]+", value) else "'" + value.replace("'", "\\'") + "'"
            SESSION.query(f"SET {key} = {literal}")
        insert = INSERT.match(query)
        if insert and body:
            SPOOL.seek(0)
            SPOOL.truncate()
            SPOOL.write(body)
            SPOOL.flush()
            SESSION.query(f"{insert.group(1)} FROM INFILE '{SPOOL.name}' FORMAT {insert.group(2)}")
            return b""
        if body:
            query = query + "\n" + body.decode()
        fmt = "TabSeparated"
        if HAS_FORMAT.search(query):
            fmt = "Native"  # ignored: the query's own FORMAT wins
        result = SESSION.query(query, fmt)
        return result.bytes() if result is not None else b""


def main():
    global SESSION, SPOOL
    port, data_dir = int(sys.argv[1]), sys.argv[2]
    os.makedirs(data_dir, exist_ok=True)
    SESSION = chdb_session.Session(os.path.join(data_dir, "chdb"))
    SPOOL = tempfile.NamedTemporaryFile(dir=data_dir, prefix="insert-", suffix=".bin")
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"chdb {chdb.__version__} (ClickHouse {SESSION.query('SELECT version()', 'TabSeparated').bytes().decode().strip()}) on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
