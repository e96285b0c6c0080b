// protobufjs, set up for parley: plain Uint8Arrays rather than Node Buffers.
// protobufjs writes into Buffers wherever it finds a global `Buffer`, which
// Deno's npm layer provides: every encode then pays for Buffer's pool and
// subclassing (~10% of a call), and hands out a type browsers do not have.
// This changes protobufjs's setting for the whole process; protobufjs's
// output stays valid Uint8Arrays for any other user of it.

import protobuf from "protobufjs";

protobuf.util.Buffer = null as unknown as typeof protobuf.util.Buffer;
protobuf.configure();

export default protobuf;
