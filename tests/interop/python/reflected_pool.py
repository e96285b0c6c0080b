#!/usr/bin/env python3
"""What a real protobuf runtime (Debian's python3-protobuf, its C++/upb
descriptor pool) makes of the FileDescriptorProtos a gRPC reflection service
hands out: it adds every file to a fresh DescriptorPool (which checks names,
packages, dependencies, map entries and oneofs as protoc's own output must
pass), finds the service, and builds message classes from the pool.

Usage:
  /usr/bin/python3 reflected_pool.py grpc TARGET REFLECTION_PROTO v1|v1alpha
      asks a gRPC server (python3-grpcio, a generic stream_stream call of
      ServerReflectionInfo; its messages compiled by protoc from the
      reflection.proto file given, whose package is grpc.reflection.VERSION)
      for list_services, the file of interop.Calculator and
      an unknown symbol, then calls interop.Calculator/Add {40, 2} with
      message classes built from the files received. Prints one JSON
      object: the services, the error of the unknown symbol, the calculator's
      description (as below) and the sum.
  /usr/bin/python3 reflected_pool.py files JSON_FILE
      JSON_FILE holds {"files": [base64 FileDescriptorProto...],
      "service": "interop.Calculator", "add": base64 of an AddRequest}.

Prints one JSON object: the files (name, package, dependencies), the
service's methods with their types and streaming flags, the AddRequest
{num1: 1, num2: 2} encoded by the pool's class (base64), the "add" bytes
decoded by it, and a Shape (map, repeated double, bytes) round trip.
Without "add" (any service): the files, every message type the pool holds
(nested ones too) and the service's methods.
"""

import base64
import json
import os
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory



def message_class(pool, name):
    """The class of message `name` in `pool` (protobuf 4.21's API and later's)."""
    descriptor = pool.FindMessageTypeByName(name)
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def pool_of(encoded_files):
    """A fresh pool holding the files, added dependencies first (as a pool
    requires); returns (pool, [FileDescriptorProto])."""
    protos = [descriptor_pb2.FileDescriptorProto.FromString(b) for b in encoded_files]
    by_name = {p.name: p for p in protos}
    pool = descriptor_pool.DescriptorPool()
    added = set()

    def add(proto):
        if proto.name in added:
            return
        added.add(proto.name)
        for dependency in proto.dependency:
            if dependency not in by_name:
                raise SystemExit("%s imports %s, which was not sent" % (proto.name, dependency))
            add(by_name[dependency])
        pool.Add(proto)

    for proto in protos:
        add(proto)
    return pool, protos


def all_messages(pool, protos):
    """The full name of every message type of the files, nested ones too,
    as the pool found them."""
    names = []

    def walk(message):
        names.append(message.full_name)
        for nested in message.nested_types:
            walk(nested)

    for proto in protos:
        for message in pool.FindFileByName(proto.name).message_types_by_name.values():
            walk(message)
    return sorted(names)


def describe(pool, protos, service_name, add_bytes):
    service = pool.FindServiceByName(service_name)
    if add_bytes is None:
        return {"files": [{"name": p.name, "dependencies": list(p.dependency)} for p in protos],
                "messages": all_messages(pool, protos),
                "methods": [m.full_name for m in service.methods]}
    add_request = message_class(pool, "interop.AddRequest")
    shape_class = message_class(pool, "interop.Shape")
    shape = shape_class(name="s", coords=[1.5, -0.25], blob=b"\x00\xff", flag=True)
    shape.tags["big"] = 2**62
    shape_back = shape_class.FromString(shape.SerializeToString())
    decoded = add_request.FromString(add_bytes)
    return {
        "files": [
            {"name": p.name, "package": p.package, "dependencies": list(p.dependency),
             "syntax": p.syntax}
            for p in protos
        ],
        "service": service.full_name,
        "file": service.file.name,
        "methods": [
            {"name": m.name, "input": m.input_type.full_name, "output": m.output_type.full_name,
             "client_streaming": m.client_streaming, "server_streaming": m.server_streaming}
            for m in service.methods
        ],
        "add_encoded": base64.b64encode(add_request(num1=1, num2=2).SerializeToString()).decode(),
        "add_decoded": {"num1": decoded.num1, "num2": decoded.num2},
        "shape_tags": {k: str(v) for k, v in shape_back.tags.items()},
        "shape_coords": list(shape_back.coords),
        "work_has_comment": pool.FindMessageTypeByName("interop.Work")
        .fields_by_name["comment"].containing_oneof is not None,
    }


def reflection_module(proto):
    """reflection_pb2, compiled by protoc from the reflection.proto at `proto`
    into a temporary directory."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _generated import compile_and_import, find_tool
    protoc = find_tool("protoc")
    if protoc is None:
        raise SystemExit("protoc not found (install the protobuf-compiler package)")

    def args(out):
        return [protoc, "--python_out=" + out, "-I", os.path.dirname(os.path.abspath(proto)),
                os.path.basename(proto)]

    modules, error = compile_and_import(args, ["reflection_pb2"], "parley-reflection-")
    if modules is None:
        raise SystemExit(error)
    return modules[0]


def over_grpc(target, proto, version):
    import grpc
    reflection = reflection_module(proto)
    Request, Response = reflection.ServerReflectionRequest, reflection.ServerReflectionResponse
    requests = [Request(list_services=""), Request(file_containing_symbol="interop.Calculator"),
                Request(file_containing_symbol="interop.NoSuchThing")]
    with grpc.insecure_channel(target) as channel:
        info = channel.stream_stream(
            "/grpc.reflection.%s.ServerReflection/ServerReflectionInfo" % version,
            request_serializer=Request.SerializeToString,
            response_deserializer=Response.FromString)
        listed, found, unknown = list(info(iter(requests), timeout=20))
        pool, protos = pool_of(list(found.file_descriptor_response.file_descriptor_proto))
        add_request = message_class(pool, "interop.AddRequest")
        add_reply = message_class(pool, "interop.AddReply")
        add = channel.unary_unary("/interop.Calculator/Add",
                                  request_serializer=add_request.SerializeToString,
                                  response_deserializer=add_reply.FromString)
        reply = add(add_request(num1=40, num2=2), timeout=20)
    return {
        "services": [s.name for s in listed.list_services_response.service],
        "unknown": {"code": unknown.error_response.error_code,
                    "message": unknown.error_response.error_message},
        "calculator": describe(pool, protos, "interop.Calculator",
                               add_request(num1=-7, num2=9).SerializeToString()),
        "sum": reply.sum,
    }


def main():
    mode = sys.argv[1]
    if mode == "grpc":
        print(json.dumps(over_grpc(sys.argv[2], sys.argv[3], sys.argv[4])))
    elif mode == "files":
        with open(sys.argv[2]) as f:
            given = json.load(f)
        pool, protos = pool_of([base64.b64decode(b) for b in given["files"]])
        add = base64.b64decode(given["add"]) if "add" in given else None
        print(json.dumps(describe(pool, protos, given["service"], add)))
    else:
        raise SystemExit("unknown mode %r" % mode)


if __name__ == "__main__":
    main()
