import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createHash, webcrypto } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A self-signed certificate and its private key in one PEM file, as --client-certificate takes it. */
export async function makeCertificate(name: string): Promise<string> {
  x509.cryptoProvider.set(webcrypto as never);
  const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: createHash("sha1").update(name).digest("hex").slice(0, 16),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys,
    signingAlgorithm: algorithm,
  });
  const key = x509.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY");
  const path = join(mkdtempSync(join(tmpdir(), "cls-cert-")), `${name}.pem`);
  writeFileSync(path, `${certificate.toString("pem")}\n${key}\n`);
  return path;
}
