// Test PKI: a throwaway CA and the certificates it signs, made with the `openssl` CLI.
// (@peculiar/x509 2.2.0 cannot be loaded here: its tsyringe dependency demands a
// `reflect-metadata` polyfill that is not installed.)
// ECDSA P-256 everywhere: Go's TLS stack, kube-apiserver's service-account signer (ES256) and
// Node's tls all accept it, and key generation is instant. Keys are written as PKCS#8 PEM.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertFiles {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

export interface CertRequest {
  /** File name stem inside the PKI directory: <name>.crt, <name>.key. */
  name: string;
  commonName: string;
  /** Subject O= values; Kubernetes reads them as the client's groups. */
  organizations?: string[];
  dnsNames?: string[];
  ips?: string[];
  usage: 'server' | 'client' | 'both';
}

const days = '7';

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const why = e.code === 'ENOENT' ? 'the `openssl` command was not found on PATH' : (e.stderr ?? e.message).trim();
    throw new Error(`openssl ${args[0]} failed: ${why}`, { cause: err });
  }
}

async function loaded(dir: string, name: string): Promise<CertFiles> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, certPem: await readFile(certFile, 'utf8'), keyPem: await readFile(keyFile, 'utf8') };
}

/** A self-signed CA in `dir` (<name>.crt/.key), valid for a week. */
export async function createCA(dir: string, name: string, commonName: string): Promise<CertFiles> {
  const ext = join(dir, `${name}.ext`);
  await writeFile(
    ext,
    [
      '[req]',
      'distinguished_name = dn',
      '[dn]',
      '[ca]',
      'basicConstraints = critical, CA:TRUE, pathlen:0',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  await openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc',
    '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`),
    '-subj', `/CN=${commonName}`, '-days', days, '-config', ext, '-extensions', 'ca',
  ]);
  return loaded(dir, name);
}

/** A leaf certificate signed by `ca`, written next to it as <req.name>.crt/.key. */
export async function issueCert(dir: string, ca: CertFiles, req: CertRequest): Promise<CertFiles> {
  const usage = { server: 'serverAuth', client: 'clientAuth', both: 'serverAuth, clientAuth' }[req.usage];
  const altNames = [...(req.dnsNames ?? []).map((d) => `DNS:${d}`), ...(req.ips ?? []).map((ip) => `IP:${ip}`)];
  const ext = join(dir, `${req.name}.ext`);
  await writeFile(
    ext,
    [
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      `extendedKeyUsage = ${usage}`,
      'authorityKeyIdentifier = keyid',
      ...(altNames.length > 0 ? [`subjectAltName = ${altNames.join(', ')}`] : []),
      '',
    ].join('\n'),
  );
  const subject = [`/CN=${req.commonName}`, ...(req.organizations ?? []).map((o) => `/O=${o}`)].join('');
  const csr = join(dir, `${req.name}.csr`);
  await openssl([
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc',
    '-keyout', join(dir, `${req.name}.key`), '-out', csr, '-subj', subject,
  ]);
  await openssl([
    'x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile,
    '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-days', days,
    '-extfile', ext, '-out', join(dir, `${req.name}.crt`),
  ]);
  return loaded(dir, req.name);
}

/** An EC key pair for signing service-account tokens: <name>.key (private), <name>.pub (public). */
export async function createSigningKey(dir: string, name: string): Promise<{ keyFile: string; pubFile: string }> {
  const keyFile = join(dir, `${name}.key`);
  const pubFile = join(dir, `${name}.pub`);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
  await openssl(['pkey', '-in', keyFile, '-pubout', '-out', pubFile]);
  return { keyFile, pubFile };
}
