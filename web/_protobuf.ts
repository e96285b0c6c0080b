/**
 * Protocol Buffers: schemas, the envelope codec and the Connect client, for
 * the entries that carry them.
 *
 * @module
 */

export {
  loadProto,
  type LoadProtoOptions,
  protobufRpc,
  type ProtobufRpcOptions,
  type ProtoCaller,
  type ProtoClient,
  protoClient,
  type ProtoImplementation,
  type ProtoInput,
  type ProtoMessage,
  type ProtoMessageType,
  type ProtoMethod,
  type ProtoSchema,
  protoService,
  type ProtoSource,
  ProtoValueError,
} from "../codecs/protobuf.ts";
export {
  CONNECT_CODES,
  type ConnectCallOptions,
  type ConnectClient,
  connectClient,
  type ConnectClientOptions,
  type ConnectCode,
  ConnectError,
  type ConnectErrorDetail,
  type ConnectFormat,
} from "../protocols/connect.ts";
// Streaming calls over the envelope: a peer carries them when given this.
export { peerStreams } from "../rpc/peer/streams.ts";
