import { writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

/** Manifests larger than this are refused (helm's release Secret holds far less). */
const MAX_MANIFEST_BYTES = 32 * 1024 * 1024;

/**
 * The program helm runs as its post-renderer (`--post-renderer node --post-renderer-args …`).
 * It has no dependencies: it hands helm's rendered manifest to the worker over a Unix socket and
 * prints what the worker answers, so the check itself runs in the worker, with its discovery
 * cache. helm applies exactly what it prints; a refusal makes it exit 1 before anything is applied.
 */
const BRIDGE_SCRIPT = `'use strict';
const net = require('node:net');
const socketPath = process.argv[2];
const input = [];
process.stdin.on('data', (c) => input.push(c));
process.stdin.on('end', () => {
  const reply = [];
  const sock = net.createConnection(socketPath);
  sock.on('data', (c) => reply.push(c));
  sock.on('error', (e) => { process.stderr.write('caelus post-renderer: ' + e.message + '\\n'); process.exit(1); });
  sock.on('end', () => {
    const out = Buffer.concat(reply);
    const nl = out.indexOf(10);
    if (nl > 0 && out.subarray(0, nl).toString() === 'OK') {
      process.stdout.write(out.subarray(nl + 1), () => process.exit(0));
    } else {
      process.stderr.write('caelus confinement check refused the rendered manifest: ' + out.subarray(nl + 1).toString() + '\\n');
      process.exit(1);
    }
  });
  sock.end(Buffer.concat(input));
});
`;

export interface PostRenderer {
  /** helm arguments that run the bridge. */
  args: string[];
  /** The review's error, when it refused (or failed on) what helm rendered. */
  refusal(): Error | undefined;
  /** How many manifests helm handed over so far (one per render). */
  reviews(): number;
  close(): Promise<void>;
}

/**
 * Starts the worker's end of a post-renderer in `dir` (a private temporary directory): each
 * manifest helm renders is given to `review`; what it resolves with goes back to helm, a
 * rejection refuses the manifest.
 */
export async function startPostRenderer(dir: string, review: (manifest: string) => Promise<string>, nodeBin = process.execPath): Promise<PostRenderer> {
  const script = join(dir, 'post-render.cjs');
  const socketPath = join(dir, 'post-render.sock');
  await writeFile(script, BRIDGE_SCRIPT, { mode: 0o600, flag: 'wx' });
  let refusal: Error | undefined;
  let reviews = 0;
  // Half-open: the bridge ends its side once it sent the manifest and still waits for the answer.
  const server: Server = createServer({ allowHalfOpen: true }, (sock: Socket) => {
    const chunks: Buffer[] = [];
    let size = 0;
    sock.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_MANIFEST_BYTES) {
        refusal ??= new Error(`rendered manifest larger than ${MAX_MANIFEST_BYTES} bytes`);
        sock.end(`NO\n${refusal.message}`);
        return;
      }
      chunks.push(c);
    });
    sock.on('error', () => undefined);
    sock.on('end', () => {
      if (size > MAX_MANIFEST_BYTES) return;
      reviews++;
      review(Buffer.concat(chunks).toString('utf8')).then(
        (out) => sock.end(`OK\n${out}`),
        (err: Error) => {
          refusal ??= err;
          sock.end(`NO\n${err.message}`);
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    args: ['--post-renderer', nodeBin, '--post-renderer-args', script, '--post-renderer-args', socketPath],
    refusal: () => refusal,
    reviews: () => reviews,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
