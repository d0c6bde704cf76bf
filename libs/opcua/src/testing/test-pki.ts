import type { webcrypto } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CertificatePurpose,
  convertPEMtoDER,
  createSelfSignedCertificate,
  generatePrivateKey,
  makeSHA1Thumbprint,
  privateKeyToPEM,
  toPem,
} from 'node-opcua-crypto';
import { CertificateAuthority } from 'node-opcua-pki';

/** A certificate and its private key on disk, as an OPC UA application or user holds them. */
export interface TestCertificate {
  name: string;
  certificateFile: string;
  privateKeyFile: string;
  /** DER, as it travels in OPC UA messages. */
  der: Buffer;
  /** SHA-1 thumbprint, hex (how node-opcua's stores name a certificate). */
  thumbprint: string;
}

export interface TestCertificateOptions {
  /** Application URI in the subjectAltName. @default `urn:pipac:test:<name>` */
  applicationUri?: string;
  /** @default ['localhost'] */
  dns?: string[];
  /** Start of validity. @default one hour ago */
  notBefore?: Date;
  /** Days of validity from notBefore. @default 365 */
  validityDays?: number;
  /** What the certificate is for (a user's X509 identity, or an application). @default application */
  purpose?: 'application' | 'user';
}

const DAY_MS = 86_400_000;

/**
 * Certificates for tests, made in pure JS (node-opcua-crypto, node-opcua-pki's native CA
 * backend: no openssl): self-signed ones, and ones a test CA issues and can revoke (its CRL
 * lists them). Helpers put them where node-opcua's certificate stores look (OPC UA Part 12
 * §7.3 layout: trusted/certs, trusted/crl, issuers/certs, issuers/crl, rejected).
 */
export class TestPki {
  private constructor(
    private readonly dir: string,
    private readonly ca: CertificateAuthority,
  ) {}

  /** A PKI with a root CA in `<dir>/ca`; certificates go to `<dir>/certs`. */
  static async create(dir: string): Promise<TestPki> {
    mkdirSync(join(dir, 'certs'), { recursive: true });
    const ca = new CertificateAuthority({
      keySize: 2048,
      location: join(dir, 'ca'),
      backend: 'native',
      subject: '/CN=pipac test CA/O=pipac',
    });
    await ca.initialize();
    return new TestPki(dir, ca);
  }

  get caCertificateDer(): Buffer {
    return this.ca.getCACertificateDER();
  }

  /** A self-signed certificate (what a client makes for itself, like "mallory"). */
  async selfSigned(name: string, options: TestCertificateOptions = {}): Promise<TestCertificate> {
    // Typed through node:crypto: the workspace's lib has no DOM, where the global CryptoKey lives.
    const privateKey = (await generatePrivateKey(2048)) as webcrypto.CryptoKey;
    const notBefore = options.notBefore ?? new Date(Date.now() - 3_600_000);
    const { cert } = await createSelfSignedCertificate({
      privateKey,
      notBefore,
      notAfter: new Date(notBefore.getTime() + (options.validityDays ?? 365) * DAY_MS),
      subject: `/CN=${name}/O=pipac tests`,
      dns: options.dns ?? ['localhost'],
      applicationUri: options.applicationUri ?? `urn:pipac:test:${name}`,
      purpose:
        options.purpose === 'user'
          ? CertificatePurpose.ForUserAuthentication
          : CertificatePurpose.ForApplication,
    });
    const { privPem } = await privateKeyToPEM(privateKey);
    return this.save(name, convertPEMtoDER(cert), privPem);
  }

  /** A certificate the test CA issues (revocable through the CA's CRL). */
  async issued(name: string, options: TestCertificateOptions = {}): Promise<TestCertificate> {
    const { certificateDer, privateKey } = await this.ca.generateKeyPairAndSignDER({
      applicationUri: options.applicationUri ?? `urn:pipac:test:${name}`,
      subject: `/CN=${name}/O=pipac tests`,
      dns: options.dns ?? ['localhost'],
      startDate: options.notBefore ?? new Date(Date.now() - 3_600_000),
      validity: options.validityDays ?? 365,
    });
    const hidden = privateKey.hidden;
    const pem =
      typeof hidden === 'string'
        ? hidden
        : hidden.export({ type: 'pkcs8', format: 'pem' }).toString();
    return this.save(name, certificateDer, pem);
  }

  /** Revokes a certificate the CA issued; the CA's CRL lists it from now on. */
  async revoke(certificate: TestCertificate): Promise<void> {
    await this.ca.revokeCertificateDER(certificate.der, 'keyCompromise');
  }

  /** Trusts a certificate in a store: `<pkiFolder>/trusted/certs`. */
  trust(pkiFolder: string, certificate: TestCertificate): void {
    const folder = join(pkiFolder, 'trusted', 'certs');
    mkdirSync(folder, { recursive: true });
    copyFileSync(certificate.certificateFile, join(folder, `${certificate.name}.pem`));
  }

  /**
   * Makes a store know the CA: its certificate in issuers/certs (or trusted/certs, which trusts
   * everything it issues) and its current CRL beside it. Call again after a revocation.
   */
  installCa(pkiFolder: string, where: 'issuers' | 'trusted'): void {
    mkdirSync(join(pkiFolder, where, 'certs'), { recursive: true });
    mkdirSync(join(pkiFolder, where, 'crl'), { recursive: true });
    writeFileSync(
      join(pkiFolder, where, 'certs', 'pipac-test-ca.pem'),
      toPem(this.ca.getCACertificateDER(), 'CERTIFICATE'),
    );
    writeFileSync(join(pkiFolder, where, 'crl', 'pipac-test-ca.crl'), this.ca.getCRLPEM());
  }

  private save(name: string, der: Buffer, privateKeyPem: string): TestCertificate {
    const certificateFile = join(this.dir, 'certs', `${name}.pem`);
    const privateKeyFile = join(this.dir, 'certs', `${name}.key.pem`);
    writeFileSync(certificateFile, toPem(der, 'CERTIFICATE'));
    writeFileSync(privateKeyFile, privateKeyPem, { mode: 0o600 });
    return {
      name,
      certificateFile,
      privateKeyFile,
      der,
      thumbprint: makeSHA1Thumbprint(der).toString('hex'),
    };
  }
}
