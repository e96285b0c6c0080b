"""One client per codec for contract_values.py: each calls a Calculator method
with plain Python values and hands back what its peer library decoded, with
no conversion that could hide a type (a JSON-RPC reply's 2 stays an int, an
XML-RPC <int> stays an int). Built on the existing peers' connections:
calculator_client.py (JSON-RPC), msgpack_calculator_client.py,
protobuf_calculator_client.py and thrift_calculator_client.py; XML-RPC uses
the standard library's marshaller and http.client.

A call returns Result(value), Raised(code, message, detail) or raises Broken
(the connection or the reply is unusable; the caller reconnects)."""

import argparse
import base64
import http.client
import xmlrpc.client
from collections import namedtuple
from urllib.parse import urlsplit

I32_MIN, I32_MAX = -(2**31), 2**31 - 1
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
SAFE = 2**53 - 1
TIMEOUT = 10.0

Result = namedtuple("Result", "value")
# code and message of the codec's error; detail the InvalidOperation {whatOp, why} it carries, if any.
Raised = namedtuple("Raised", "code message detail")


class Broken(Exception):
    """The call got no usable reply."""


def xml_char(c):
    """XML 1.0's Char production: what an XML-RPC <string> can hold at all."""
    n = ord(c)
    return n in (0x9, 0xA, 0xD) or 0x20 <= n <= 0xD7FF or 0xE000 <= n <= 0xFFFD or n >= 0x10000


class Client:
    """What a codec carries (the generator reads these), and its calls."""

    name = "?"
    i64 = (I64_MIN, I64_MAX)  # the i64 values the codec carries
    specials = True  # inf, -inf and nan as doubles
    exact_message = True  # the error message is exactly the why (XML-RPC: faultString contains it)
    detail = True  # errors carry InvalidOperation {whatOp, why}

    def text_ok(self, c):
        return True

    def wire(self, value):
        """How an expected value looks once the peer library decoded it."""
        return value

    def call(self, method, args):
        raise NotImplementedError

    def close(self):
        pass


# --- JSON-RPC and msgpack-rpc: maps in, maps out ---------------------------------------------------


def map_error(error):
    """A JSON-RPC or msgpack-rpc error object as Raised."""
    return Raised(error.get("code"), error.get("message"), error.get("data"))


class JsonRpc(Client):
    name = "jsonrpc"
    i64 = (-SAFE, SAFE)
    specials = False

    def __init__(self, url):
        import calculator_client as peer
        self.peer = peer
        self.conn = peer.Client(url.hostname, url.port, "newline")

    def wire(self, value):
        # Bytes travel as standard padded base64 text; the rest as it is.
        if isinstance(value, bytes):
            return base64.b64encode(value).decode("ascii")
        if isinstance(value, dict):
            return {k: self.wire(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.wire(v) for v in value]
        return value

    def call(self, method, args):
        try:
            reply = self.conn.request(method, self.wire(list(args)))
        except (self.peer.CheckFailed, OSError) as error:
            raise Broken(str(error))
        return map_error(reply["error"]) if "error" in reply else Result(reply["result"])

    def close(self):
        self.conn.close()


class MsgpackRpc(Client):
    name = "msgpack"

    def __init__(self, url):
        import msgpack_calculator_client as peer
        self.peer = peer
        self.conn = peer.Client(url.hostname, url.port, "self-delimiting")

    def call(self, method, args):
        try:
            reply = self.conn.request(method, list(args))
        except (self.peer.CheckFailed, OSError) as error:
            raise Broken(str(error))
        return map_error(reply[2]) if reply[2] is not None else Result(reply[3])

    def close(self):
        self.conn.close()


# --- XML-RPC: the standard library's marshaller, with <i8> and escaped CR --------------------------


def escape_text(text):
    # xmlrpc.client leaves CR raw, which every XML parser reads back as LF.
    return xmlrpc.client.escape(text).replace("\r", "&#13;")


class Marshaller(xmlrpc.client.Marshaller):
    """xmlrpc.client's writer, plus <i8> beyond i32 (the contract's i64), which it refuses."""

    dispatch = dict(xmlrpc.client.Marshaller.dispatch)

    def dump_int(self, value, write):
        if I32_MIN <= value <= I32_MAX:
            write("<value><int>%d</int></value>\n" % value)
        else:
            write("<value><i8>%d</i8></value>\n" % value)

    dispatch[int] = dump_int
    dispatch[str] = lambda self, value, write: xmlrpc.client.Marshaller.dump_unicode(
        self, value, write, escape=escape_text)
    dispatch[dict] = lambda self, value, write: xmlrpc.client.Marshaller.dump_struct(
        self, value, write, escape=escape_text)


class XmlRpc(Client):
    name = "xmlrpc"
    specials = False  # XML-RPC has no representation for them
    exact_message = False
    detail = False

    def __init__(self, url):
        self.url = url
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=TIMEOUT)

    def text_ok(self, c):
        return xml_char(c)

    def call(self, method, args):
        body = ("<?xml version='1.0'?>\n<methodCall>\n<methodName>%s</methodName>\n%s</methodCall>\n" % (
            method, Marshaller(allow_none=True).dumps(list(args)))).encode("utf-8")
        try:
            self.conn.request("POST", self.url.path, body, {"Content-Type": "text/xml"})
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.conn.close()
            raise Broken("HTTP: %s" % error)
        if response.status != 200:
            raise Broken("HTTP %d: %r" % (response.status, data[:200]))
        try:
            (value,), _ = xmlrpc.client.loads(data, use_builtin_types=True)
        except xmlrpc.client.Fault as fault:
            return Raised(fault.faultCode, fault.faultString, None)
        except Exception as error:  # noqa: BLE001 - any parse failure is a broken reply
            raise Broken("the reply does not parse (%s): %r" % (error, data[:200]))
        return Result(value)

    def close(self):
        self.conn.close()


# --- protobuf envelope: generated messages, read back field by field --------------------------------


class Protobuf(Client):
    name = "protobuf"

    def __init__(self, url):
        import protobuf_calculator_client as peer
        self.peer = peer
        if peer.pb is None:
            error = peer.load_protos(peer.DEFAULT_PROTO_DIR)
            if error:
                raise OSError(error)
        self.conn = peer.Connection(url.hostname, url.port, "length-prefix")

    def call(self, method, args):
        pb = self.peer.pb
        if method == "ping":
            request, reply, read = pb.Empty(), None, None
        elif method == "add":
            request, reply, read = pb.AddRequest(num1=args[0], num2=args[1]), pb.AddReply, "sum"
        elif method == "calculate":
            work = {k: v for k, v in args[1].items() if v is not None}  # None: comment absent
            request = pb.CalculateRequest(logid=args[0], w=pb.Work(**work))
            reply, read = pb.CalculateReply, "value"
        elif method == "echo":
            request, reply, read = pb.EchoMessage(text=args[0]), pb.EchoMessage, "text"
        elif method == "echoBinary":
            request, reply, read = pb.BinaryMessage(data=args[0]), pb.BinaryMessage, "data"
        elif method == "echoShape":
            request, reply, read = pb.Shape(**args[0]), pb.Shape, None
        elif method == "sum":
            request, reply, read = pb.SumRequest(values=args[0]), pb.SumReply, "total"
        else:
            raise ValueError(method)
        full = "interop.Calculator/" + method[0].upper() + method[1:]
        try:
            response = self.conn.call(full, request)
        except (self.peer.CheckFailed, OSError) as error:
            raise Broken(str(error))
        if response.WhichOneof("outcome") == "error":
            return self.error(response.error)
        payload = response.payload
        if reply is None:
            if payload != b"":
                raise Broken("Ping answered a payload: %r" % payload)
            return Result(None)
        try:
            got = reply.FromString(payload)
        except Exception as error:  # noqa: BLE001 - DecodeError and UnicodeDecodeError
            raise Broken("the reply payload is not a %s: %s" % (reply.DESCRIPTOR.name, error))
        if read is not None:
            return Result(getattr(got, read))
        return Result({"name": got.name, "coords": list(got.coords), "tags": dict(got.tags),
                       "blob": got.blob, "flag": got.flag})

    def error(self, error):
        detail = None
        if error.details:
            try:
                d = self.peer.pb.InvalidOperation.FromString(error.details)
                detail = {"whatOp": d.whatOp, "why": d.why}
            except Exception:  # noqa: BLE001 - not an InvalidOperation: no detail
                detail = error.details
        return Raised(error.code, error.message, detail)

    def close(self):
        self.conn.close()


# --- Thrift: the generated client; a struct's unset field reads back as None ------------------------


class Thrift(Client):
    name = "thrift"

    def __init__(self, url):
        import thrift_calculator_client as peer
        self.peer = peer
        if peer.Calculator is None:
            error = peer.load_thrift(peer.DEFAULT_THRIFT_DIR)
            if error:
                raise OSError(error)
        self.settings = peer.Settings(argparse.Namespace(
            host=url.hostname, port=url.port, transport="framed", protocol="binary",
            multiplexed=None, path="/thrift"))
        self.conn = peer.ThriftClient(self.settings)

    def call(self, method, args):
        from thrift.Thrift import TApplicationException, TException
        t = self.peer.ttypes
        if method == "calculate":
            args = [args[0], t.Work(**args[1])]
        elif method == "echoShape":
            args = [t.Shape(**args[0])]
        try:
            got = getattr(self.conn.client, method)(*args)
        except t.InvalidOperation as error:
            # The declared exception is the contract's InvalidOperation (code 1).
            return Raised(1, error.why, {"whatOp": error.whatOp, "why": error.why})
        except TApplicationException as error:
            return Raised("TApplicationException %s" % self.peer.APP_ERRORS.get(error.type, error.type),
                          error.message, None)
        except (TException, OSError, EOFError, ValueError) as error:
            raise Broken("%s: %s" % (type(error).__name__, error))
        if isinstance(got, t.Shape):
            got = {"name": got.name, "coords": got.coords, "tags": got.tags, "blob": got.blob, "flag": got.flag}
        return Result(got)

    def close(self):
        self.conn.close()


CLIENTS = {c.name: c for c in (JsonRpc, XmlRpc, MsgpackRpc, Protobuf, Thrift)}


def connect(codec, url):
    """A client of `codec` (a name in CLIENTS) for the calculator's listening URL."""
    return CLIENTS[codec](urlsplit(url))

