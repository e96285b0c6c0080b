/**
 * Certificates for mutual-TLS tests and examples, made by `openssl` in a
 * temporary directory: a CA, a server certificate for 127.0.0.1 and
 * localhost, a client certificate for `alice` (with a SPIFFE URI and an
 * e-mail subjectAltName), the same client signed by another CA, and one
 * that expired in 2020.
 *
 * @module
 */

/** A certificate and its private key, both PEM. */
export interface CertifiedKey {
  /** The certificate. */
  readonly cert: string;
  /** Its private key (EC P-256). */
  readonly key: string;
}

/** What {@linkcode makeMutualTlsCertificates} makes; dispose of it to remove the files. */
export interface MutualTlsCertificates extends AsyncDisposable {
  /**
   * The directory holding them as files, for other programs: `ca.pem`,
   * `server.pem`, `server-key.pem`, `client.pem`, `client-key.pem`,
   * `client-other.pem`, `client-expired.pem`.
   */
  readonly dir: string;
  /** The CA that signed the server's and the clients' certificates, PEM. */
  readonly ca: string;
  /** For 127.0.0.1 and localhost, signed by `ca`. */
  readonly server: CertifiedKey;
  /** For `CN=alice`, `URI:spiffe://parley.test/alice`, `email:alice@parley.test`, signed by `ca`. */
  readonly client: CertifiedKey;
  /** The same client, signed by another CA. */
  readonly otherCaClient: CertifiedKey;
  /** The same client, signed by `ca`, valid only on 1 January 2020. */
  readonly expiredClient: CertifiedKey;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const output = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (!output.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
}

/**
 * Makes a CA, a server certificate and client certificates (good, from
 * another CA, expired) with `openssl` (3.0 or later).
 *
 * @returns the certificates and keys; `await using` removes their directory
 * @throws {Error} when openssl is missing or fails
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeMutualTlsCertificates } from "./mtls_certificates.ts";
 *
 * await using certs = await makeMutualTlsCertificates();
 * assert.match(certs.client.cert, /^-----BEGIN CERTIFICATE-----/);
 * ```
 */
export async function makeMutualTlsCertificates(): Promise<MutualTlsCertificates> {
  const dir = await Deno.makeTempDir({ prefix: "parley-mtls-" });
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  try {
    for (const ca of ["ca", "other-ca"]) {
      await openssl(
        dir,
        ...["req", "-x509", ...EC, "-keyout", `${ca}-key.pem`, "-out", `${ca}.pem`, "-days", "2"],
        ...["-subj", `/CN=parley ${ca}`, "-addext", "basicConstraints=critical,CA:TRUE"],
        ...["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
      );
    }
    const usage = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n";
    await Deno.writeTextFile(
      `${dir}/server.ext`,
      `subjectAltName=IP:127.0.0.1,DNS:localhost\n${usage}extendedKeyUsage=serverAuth\n`,
    );
    await Deno.writeTextFile(
      `${dir}/client.ext`,
      "subjectAltName=URI:spiffe://parley.test/alice,email:alice@parley.test\n" +
        `${usage}extendedKeyUsage=clientAuth\n`,
    );
    const sign = (csr: string, ca: string, out: string, ext: string, serial: string) =>
      openssl(
        dir,
        ...["x509", "-req", "-in", csr, "-CA", `${ca}.pem`, "-CAkey", `${ca}-key.pem`],
        ...["-set_serial", serial, "-days", "2", "-out", out, "-extfile", ext],
      );
    for (const [name, cn] of [["server", "127.0.0.1"], ["client", "alice"]]) {
      await openssl(
        dir,
        "req",
        "-new",
        ...EC,
        "-keyout",
        `${name}-key.pem`,
        "-out",
        `${name}.csr`,
        "-subj",
        `/CN=${cn}`,
      );
    }
    await sign("server.csr", "ca", "server.pem", "server.ext", "2");
    await sign("client.csr", "ca", "client.pem", "client.ext", "3");
    await sign("client.csr", "other-ca", "client-other.pem", "client.ext", "4");
    // `openssl x509` of OpenSSL 3.0 cannot set dates in the past; `openssl ca` can.
    await Deno.mkdir(`${dir}/db`);
    await Deno.writeTextFile(`${dir}/db/index.txt`, "");
    await Deno.writeTextFile(`${dir}/db/serial`, "05\n");
    await Deno.writeTextFile(
      `${dir}/ca.cnf`,
      "[ca]\ndefault_ca=test\n[test]\ndatabase=db/index.txt\nserial=db/serial\nnew_certs_dir=db\n" +
        "default_md=sha256\npolicy=any\nunique_subject=no\n[any]\ncommonName=supplied\n",
    );
    await openssl(
      dir,
      ...["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca-key.pem"],
      ...["-in", "client.csr", "-out", "client-expired.pem", "-notext", "-extfile", "client.ext"],
      ...["-startdate", "20200101000000Z", "-enddate", "20200102000000Z"],
    );
    const clientKey = await read("client-key.pem");
    return {
      dir,
      ca: await read("ca.pem"),
      server: { cert: await read("server.pem"), key: await read("server-key.pem") },
      client: { cert: await read("client.pem"), key: clientKey },
      otherCaClient: { cert: await read("client-other.pem"), key: clientKey },
      expiredClient: { cert: await read("client-expired.pem"), key: clientKey },
      [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
    };
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}
