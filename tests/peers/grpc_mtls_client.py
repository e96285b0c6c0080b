"""gRPC-over-mutual-TLS client for tests/grpc_mtls_test.ts (Python's grpcio).

DIR PORT CERT[:KEY]: calls /demo.Who/WhoAmI on 127.0.0.1:PORT over TLS
trusting DIR's ca.pem, presenting DIR's CERT.pem and KEY-key.pem (KEY is CERT
when absent; CERT `none`: no client certificate). The request is an empty message; the reply, a
`Name { string name = 1; }`, is read from its raw bytes (no generated code).
Prints `OK <name>`, or `REFUSED <status name> <details>` when the call fails.
"""
import sys

import grpc


def main(d, port, which):
    which, _, key = which.partition(":")
    root = open(f"{d}/ca.pem", "rb").read()
    if which == "none":
        credentials = grpc.ssl_channel_credentials(root_certificates=root)
    else:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=root,
            private_key=open(f"{d}/{key or which}-key.pem", "rb").read(),
            certificate_chain=open(f"{d}/{which}.pem", "rb").read(),
        )
    with grpc.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
        who = channel.unary_unary(
            "/demo.Who/WhoAmI",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b,
        )
        try:
            reply = who(b"", timeout=10)
        except grpc.RpcError as error:
            print(f"REFUSED {error.code().name} {error.details()}")
            return
        # Field 1, wire type 2: 0x0a, a one-byte length (names are short), the UTF-8.
        assert reply[0] == 0x0A and reply[1] == len(reply) - 2, reply
        print(f"OK {reply[2:].decode()}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
