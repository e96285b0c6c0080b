/**
 * The default wiring of the interop contract: which codec goes with which
 * framing, by the names the example server's command line uses.
 *
 * @module
 */

import { jsonRpc } from "../../codecs/json_rpc.ts";
import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import { protobufRpc, type ProtoSchema } from "../../codecs/protobuf.ts";
import { thriftRpc, thriftService } from "../../codecs/thrift.ts";
import { codecEntry } from "../../codecs/registry.ts";
import { xmlRpc } from "../../codecs/xml_rpc.ts";
import { type Codec, combineServices, type Service } from "../../mod.ts";
import type { CalculatorOptions } from "./service.ts";
import { calculatorSchema, ERROR_DETAILS, protobufCalculator } from "./protobuf.ts";
import { calculatorThrift, invalidOperationError, thriftCalculator } from "./thrift.ts";

/** A codec and what goes with it by default. */
export interface CodecWiring {
  /** The codec. */
  readonly codec: Codec;
  /** Its framing on byte streams when none is asked for. */
  readonly defaultFraming: string;
  /** How the calculator's values travel in it (64-bit integers, bytes). */
  readonly calculator: CalculatorOptions;
  /** Its path on the HTTP transport (`/` for Connect, whose paths are the methods). */
  readonly httpPath: string;
  /** What it serves, when not the calculator of `service.ts` as it is (protobuf's messages). */
  readonly service?: Service;
  /** protobuf's schema, which the Connect protocol serves over HTTP. */
  readonly schema?: ProtoSchema;
}

// What the calculator makes of each codec: the codec as the contract wants
// it, how the calculator's values travel in it, and (protobuf, Thrift) the
// service under the IDL's names. Names, framings and HTTP paths come from
// the codec registry.
type CalculatorCodec = Omit<CodecWiring, "defaultFraming" | "httpPath">;
const CALCULATOR_CODECS: Record<
  string,
  (protocol: "binary" | "compact", multiplexed: boolean) => CalculatorCodec
> = {
  jsonrpc: () => ({ codec: jsonRpc(), calculator: { int64: "safe", base64: true } }),
  xmlrpc: () => ({ codec: xmlRpc(), calculator: { int64: "full" } }),
  msgpack: () => ({ codec: msgpackRpc(), calculator: { int64: "full" } }),
  protobuf: () => {
    const schema = calculatorSchema();
    return {
      codec: protobufRpc({ schema, errorDetails: ERROR_DETAILS }),
      calculator: { int64: "full" },
      service: protobufCalculator(schema),
      schema,
    };
  },
  thrift: (protocol, multiplexed) => {
    const schema = calculatorThrift();
    const service = thriftCalculator();
    return {
      codec: thriftRpc({
        schema,
        service: "Calculator",
        protocol,
        multiplexed,
        exceptionError: invalidOperationError,
      }),
      calculator: { int64: "full" },
      // Multiplexed: `Calculator:add`, and bare names for plain clients.
      service: multiplexed
        ? combineServices(thriftService(schema, "Calculator", service), service)
        : service,
    };
  },
};

/**
 * The codec of a command-line name.
 *
 * @example
 * ```ts
 * import { codecByName } from "./wiring.ts";
 * const wiring = codecByName("xmlrpc")!;
 * console.assert(wiring.httpPath === "/RPC2" && wiring.defaultFraming === "length-prefix");
 * ```
 *
 * @param name such as `"jsonrpc"`
 * @param protocol Thrift's protocol, `"binary"` (the default) or `"compact"`
 * @param multiplexed Thrift: TMultiplexedProtocol, the calculator as `Calculator`
 * @returns the codec and its defaults, or `undefined` for an unknown name
 */
export function codecByName(
  name: string,
  protocol: "binary" | "compact" = "binary",
  multiplexed = false,
): CodecWiring | undefined {
  const entry = codecEntry(name);
  const make = Object.hasOwn(CALCULATOR_CODECS, name) ? CALCULATOR_CODECS[name] : undefined;
  if (entry === undefined || make === undefined) return undefined;
  return {
    ...make(protocol, multiplexed),
    defaultFraming: entry.framing.stream,
    httpPath: entry.httpPath,
  };
}

export { framingByName } from "../../rpc/framing/by_name.ts";
