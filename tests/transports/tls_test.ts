import { type Certificates, makeCertificates } from "../_certificates.ts";
import { testCases } from "../../testing/cases.ts";
import { transportSuite } from "../../testing/transport_suite.ts";
import { socketHarness } from "./_socket.ts";

// Each server gets fresh certificates, removed when it closes; its clients
// trust their CA.
let certs: Certificates | undefined;

testCases(transportSuite(socketHarness("TLS", {
  listen: async () => {
    certs = await makeCertificates();
    return { transport: "tls", hostname: "127.0.0.1", port: 0, cert: certs.cert, key: certs.key };
  },
  reach: (address) => ({ ...address, caCerts: [certs!.ca] }),
  cleanUp: async () => await certs![Symbol.asyncDispose](),
})));
