// The pieces the envelope codec (codecs/protobuf.ts) builds its messages
// from: method names read from bytes, ids as the envelope carries them, the
// request message of a call's params, the methods of calls in flight, and
// the invalid messages that the session answers.

import { ErrorCode } from "../../rpc/errors.ts";
import type { RpcId, RpcInvalid, RpcParams } from "../../rpc/types.ts";
import type { ProtoMethod } from "./schema.ts";

// A method name is printable ASCII without spaces; a reply's payload starts
// with a field tag, which for fields 1 to 3 is a control character. Names
// are built a character at a time: short, and cheaper than a spread or a
// TextDecoder.
export function methodName(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0 || bytes.length > 1024) return undefined;
  let name = "";
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c < 0x21 || c > 0x7e) return undefined;
    name += String.fromCharCode(c);
  }
  return name;
}

export function requestOf(params: RpcParams | undefined, method: ProtoMethod): unknown {
  if (params === undefined) return {};
  if (!Array.isArray(params)) return params;
  if (params.length === 0) return {};
  if (params.length === 1) return params[0];
  throw new TypeError(
    `${method.name} takes one ${method.request.name} message, not ${params.length} params`,
  );
}

export function wireId(id: RpcId): number | string {
  if (typeof id === "number" && Number.isSafeInteger(id) && id > 0) return id;
  if (typeof id === "string" && /^[1-9]\d{0,19}$/.test(id) && BigInt(id) < 2n ** 64n) return id;
  throw new TypeError(
    `The protobuf envelope's ids are positive 64-bit integers, not ${String(id)}`,
  );
}

export function remember(
  map: Map<RpcId, ProtoMethod>,
  id: RpcId,
  method: ProtoMethod,
  max: number,
) {
  map.set(id, method);
  if (map.size > max) map.delete(map.keys().next().value!);
}

export function invalid(
  id: RpcId | null | undefined,
  code: number,
  message: string,
  data?: unknown,
): RpcInvalid {
  return {
    kind: "invalid",
    id,
    error: data === undefined ? { code, message } : { code, message, data },
  };
}

export function malformedReply(id: RpcId, why: string): RpcInvalid {
  return {
    kind: "invalid",
    id: undefined,
    error: { code: ErrorCode.ParseError, message: `Malformed reply: ${why}` },
    inReplyTo: id,
  };
}
