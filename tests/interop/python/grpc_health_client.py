#!/usr/bin/env python3
"""A real gRPC client (Debian's python3-grpcio) of the standard health
service: a generic call of /grpc.health.v1.Health/Check (no stubs; the two
one-field messages written and read by hand, as protoc's output would).

Usage: /usr/bin/python3 grpc_health_client.py TARGET SERVICE [METHOD]

METHOD is Check (the default) or Watch (its first reply). Prints one JSON
line: `{"code": 0, "status": N}` for OK, else `{"code": N, "details": "..."}`.
"""

import json
import sys

import grpc


def request(service):
    """HealthCheckRequest { string service = 1; } (names under 128 bytes)."""
    name = service.encode("utf-8")
    return bytes([0x0A, len(name)]) + name if name else b""


def status_of(reply):
    """HealthCheckResponse { ServingStatus status = 1; }: 0 when absent."""
    return reply[1] if reply[:1] == b"\x08" else 0


def main():
    target, service = sys.argv[1], sys.argv[2]
    method = sys.argv[3] if len(sys.argv) > 3 else "Check"
    with grpc.insecure_channel(target) as channel:
        path = "/grpc.health.v1.Health/" + method
        try:
            if method == "Watch":
                reply = next(iter(channel.unary_stream(path)(request(service), timeout=10)))
            else:
                reply = channel.unary_unary(path)(request(service), timeout=10)
            print(json.dumps({"code": 0, "status": status_of(reply)}))
        except grpc.RpcError as error:
            print(json.dumps({"code": error.code().value[0], "details": error.details()}))


if __name__ == "__main__":
    main()
