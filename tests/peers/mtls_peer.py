"""Mutual-TLS peer for tests/mtls_interop_test.ts (Python's ssl module).

client DIR PORT [CERT]: connects to 127.0.0.1:PORT trusting DIR's ca, presenting
  CERT (client|none), sends one JSON-RPC call `whoami` (newline framed), prints
  the reply line or REFUSED <reason> when the connection ends without one.
server DIR: listens on 127.0.0.1, port 0, requiring a client certificate signed
  by DIR's ca; prints `listening tcp://127.0.0.1:PORT`, then for each connection the verified
  client's CN is answered to one JSON-RPC call; prints `refused <reason>` on a
  failed handshake. Stops after two connections.
"""
import json
import socket
import ssl
import sys


def client(d, port, which):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=f"{d}/ca.pem")
    if which != "none":
        ctx.load_cert_chain(f"{d}/{which}.pem", f"{d}/{which}-key.pem")
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as raw:
        try:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"whoami","params":[]}\n')
                data = b""
                while not data.endswith(b"\n"):
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                print(data.decode().strip() if data else "REFUSED closed", flush=True)
        except (ssl.SSLError, ConnectionError) as e:
            print(f"REFUSED {type(e).__name__}", flush=True)


def server(d):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=f"{d}/ca.pem")
    ctx.load_cert_chain(f"{d}/server.pem", f"{d}/server-key.pem")
    ctx.verify_mode = ssl.CERT_REQUIRED
    with socket.create_server(("127.0.0.1", 0)) as ls:
        print(f"listening tcp://127.0.0.1:{ls.getsockname()[1]}", flush=True)
        for _ in range(2):
            conn, _addr = ls.accept()
            conn.settimeout(10)
            try:
                with ctx.wrap_socket(conn, server_side=True) as s:
                    cn = dict(x[0] for x in s.getpeercert()["subject"])["commonName"]
                    line = b""
                    while not line.endswith(b"\n"):
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        line += chunk
                    req = json.loads(line)
                    s.sendall((json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": cn}) + "\n").encode())
            except (ssl.SSLError, ConnectionError, OSError) as e:
                print(f"refused {getattr(e, 'reason', None) or type(e).__name__}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "client":
        client(*sys.argv[2:5])
    else:
        server(sys.argv[2])
