/**
 * Prints the certificates of one PEM bundle (this host's, as NODE_EXTRA_CA_CERTS names it) that
 * another (the build image's own) lacks: the CAs only this host trusts, such as an intercepting
 * proxy's. scripts/test-image.sh hands them to the Dockerfile's build stage, which could not reach
 * the npm registry without them. A whole bundle would not fit: a build argument is one command-line
 * string, at most 128 KiB on Linux.
 *
 *   node --import tsx scripts/image-bases/extra-ca.ts HOST_BUNDLE IMAGE_BUNDLE
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function certificates(file: string): string[] {
  return readFileSync(file, 'utf8').match(PEM_BLOCK) ?? [];
}

const [hostBundle, imageBundle] = process.argv.slice(2);
if (!hostBundle || !imageBundle) {
  process.stderr.write('usage: extra-ca.ts HOST_BUNDLE IMAGE_BUNDLE\n');
  process.exit(2);
}
const known = new Set(certificates(imageBundle).map((pem) => new X509Certificate(pem).fingerprint256));
const extra = certificates(hostBundle).filter((pem) => !known.has(new X509Certificate(pem).fingerprint256));
process.stdout.write(extra.length > 0 ? `${extra.join('\n')}\n` : '');
