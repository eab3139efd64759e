/**
 * A throwaway certificate authority and a server certificate for 127.0.0.1
 * and localhost, made with openssl, as PVE makes pve-root-ca.pem and
 * pve-ssl.pem: for loopback HTTPS fakes of the PVE API, and for the
 * server's SMTP channel tests.
 */

export interface TestTls {
  /** The CA certificate (PEM), what the agent is told to trust. */
  caFile: string;
  caPem: string;
  /** The server's certificate and key (PEM), for Deno.serve. */
  cert: string;
  key: string;
  /** The same as files, for servers that take paths. */
  certFile: string;
  keyFile: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `openssl ${args.join(" ")} failed:\n${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
}

/** Makes a CA and a server certificate in `dir` (which must exist). */
export async function makeTestTls(
  dir: string,
  cn = "proxmon test CA",
): Promise<TestTls> {
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    `/CN=${cn}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\n" +
      "extendedKeyUsage=serverAuth\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "server.ext",
  ], dir);
  return {
    caFile: `${dir}/ca.pem`,
    caPem: await Deno.readTextFile(`${dir}/ca.pem`),
    cert: await Deno.readTextFile(`${dir}/server.pem`),
    key: await Deno.readTextFile(`${dir}/server.key`),
    certFile: `${dir}/server.pem`,
    keyFile: `${dir}/server.key`,
  };
}
