#!/usr/bin/env python3
"""Say hello to a Sunshine coordinator with Python's own TLS stack and framing.

Connects over TLS 1.3 with a node certificate, sends one `hello` frame (4-byte big-endian
length + JSON), prints the coordinator's answer as one JSON line and the TLS version, and
exits 0 if the answer is a hello result. Useful to check a coordinator from a machine without
Sunshine, and used by the tests as a peer that is not Sunshine's Swift code.
"""
import argparse
import json
import socket
import ssl
import struct
import sys


def read_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("the coordinator closed the connection")
        data += chunk
    return data


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7420)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--node", required=True)
    parser.add_argument("--role", default="agent")
    arguments = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_verify_locations(arguments.ca)
    context.load_cert_chain(arguments.cert, arguments.key)
    with socket.create_connection((arguments.host, arguments.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            hello = {
                "jsonrpc": "2.0", "id": 1, "method": "hello",
                "params": {"protocol": 1, "node": arguments.node, "role": arguments.role,
                           "software": "interop-hello.py", "maxFrame": 1048576},
            }
            payload = json.dumps(hello).encode("utf-8")
            tls.sendall(struct.pack(">I", len(payload)) + payload)
            (length,) = struct.unpack(">I", read_exactly(tls, 4))
            answer = json.loads(read_exactly(tls, length).decode("utf-8"))
            print(json.dumps(answer, sort_keys=True))
            print(tls.version())
            bye = json.dumps({"jsonrpc": "2.0", "method": "bye", "params": {"reason": "interop check done"}}).encode()
            tls.sendall(struct.pack(">I", len(bye)) + bye)
    return 0 if "result" in answer else 1


if __name__ == "__main__":
    sys.exit(main())
