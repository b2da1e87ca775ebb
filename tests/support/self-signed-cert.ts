import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * A throwaway self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI.
 * The key is unencrypted PKCS#8, which both Node's TLS and Kafka's PEM key store read.
 */
export async function selfSignedCert(dir: string, keyType: "ec" | "rsa" = "ec"): Promise<{ certFile: string; keyFile: string; cert: Buffer }> {
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const key = keyType === "ec" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] : ["-newkey", "rsa:2048"];
  execFileSync(
    "openssl",
    ["req", "-x509", ...key, "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
    { stdio: "ignore" },
  );
  return { certFile, keyFile, cert: await readFile(certFile) };
}
