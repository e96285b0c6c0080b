/**
 * Certificates for TLS tests, made with openssl at test time: a CA, a server
 * certificate it signed (127.0.0.1 and localhost) and one for another name.
 *
 * @module
 */

import assert from "node:assert/strict";
import { formatOutput, run } from "./interop/_process.ts";

/** A CA, a server certificate it signed and one for another name, in a temp dir. */
export interface Certificates extends AsyncDisposable {
  readonly dir: string;
  /** The CA's certificate, PEM. */
  readonly ca: string;
  /** For 127.0.0.1 and localhost (IP and DNS subjectAltNames), signed by the CA. */
  readonly cert: string;
  readonly key: string;
  /** For example.test only, signed by the CA. */
  readonly otherCert: string;
  readonly otherKey: string;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const result = await run("openssl", { args, cwd: dir, timeout: 30_000 });
  assert.equal(result.code, 0, `openssl ${args.join(" ")}\n${formatOutput(result)}`);
}

// Everything made with openssl at test time, with EC P-256 keys (fast to make).
export async function makeCertificates(): Promise<Certificates> {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "parley-tls-" });
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await openssl(
      dir,
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca-key.pem",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=parley test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    );
    const issue = async (name: string, altNames: string, serial: string) => {
      await Deno.writeTextFile(
        `${dir}/${name}.ext`,
        `subjectAltName=${altNames}\nbasicConstraints=CA:FALSE\n` +
          "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
      );
      await openssl(
        dir,
        "req",
        "-new",
        ...ec,
        "-keyout",
        `${name}-key.pem`,
        "-out",
        `${name}.csr`,
        "-subj",
        `/CN=${name}`,
      );
      await openssl(
        dir,
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca-key.pem",
        "-set_serial",
        serial,
        "-days",
        "2",
        "-extfile",
        `${name}.ext`,
        "-out",
        `${name}.pem`,
      );
    };
    await issue("server", "IP:127.0.0.1,DNS:localhost", "2");
    await issue("other", "DNS:example.test", "3");
    const read = (file: string) => Deno.readTextFile(`${dir}/${file}`);
    return {
      dir,
      ca: await read("ca.pem"),
      cert: await read("server.pem"),
      key: await read("server-key.pem"),
      otherCert: await read("other.pem"),
      otherKey: await read("other-key.pem"),
      [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
    };
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}
