/**
 * One file from the VM to the browser, streamed: the SFTP read is piped to the response, so a
 * slow browser slows the VM read and the gateway holds a stream's buffer at most. Real
 * `Content-Length`, single `Range` requests for resumed downloads, and a safe
 * `Content-Disposition` for whatever the file is called.
 */
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { GatewayError } from '../errors.js';
import { attachmentDisposition, baseNameOf } from './content-disposition.js';
import { decideRange } from './byte-range.js';
import { ByteMeter } from './byte-meter.js';
import { fileErrorOf } from './sftp-errors.js';
import { closeHandle, fstat, open } from './sftp-ops.js';
import { SftpReadStream } from './sftp-streams.js';
import type { Transfer } from './transfer-gate.js';

export interface DownloadOutcome {
  readonly bytes: number;
  /** Of the bytes sent (the range, for a partial answer). */
  readonly sha256: string | null;
  /** "start-end/size" for a partial answer; null for the whole file. */
  readonly range: string | null;
  /** Every byte promised by Content-Length was sent. */
  readonly complete: boolean;
}

/**
 * Throws a GatewayError before anything is sent (missing file, a folder, unsatisfiable range);
 * once the headers are out, a failure or an abort cuts the response and is reported as incomplete.
 */
export async function sendFile(transfer: Transfer, path: string, req: Request, res: Response): Promise<DownloadOutcome> {
  const { sftp } = transfer.vm;
  let handle: Buffer;
  try {
    handle = await open(sftp, path, 'r');
  } catch (error) {
    throw fileErrorOf(error, path);
  }
  try {
    let size: number;
    let mtime: number;
    try {
      const stats = await fstat(sftp, handle);
      if (!stats.isFile()) throw new GatewayError('not_a_file', `${JSON.stringify(path)} is not a file; download a folder as an archive.`);
      size = stats.size;
      mtime = stats.mtime;
    } catch (error) {
      throw error instanceof GatewayError ? error : fileErrorOf(error, path);
    }
    // A resumed download must continue the same file: If-Range names the version it started on.
    const etag = `"${size.toString(36)}-${mtime.toString(36)}"`;
    const lastModified = new Date(mtime * 1000).toUTCString();
    const ifRange = req.get('if-range');
    const rangeHeader = ifRange === undefined || ifRange === etag || ifRange === lastModified ? req.get('range') : undefined;
    const range = decideRange(rangeHeader, size);
    res.set({
      'Cache-Control': 'no-store',
      'Accept-Ranges': 'bytes',
      ETag: etag,
      'Last-Modified': lastModified,
    });
    if (range.kind === 'unsatisfiable') {
      res.set('Content-Range', `bytes */${size}`);
      throw new GatewayError('range_not_satisfiable', `The file has ${size} bytes; the range asked for lies outside them.`);
    }
    const start = range.kind === 'partial' ? range.start : 0;
    const end = range.kind === 'partial' ? range.end : size - 1;
    const length = end - start + 1;
    res.status(range.kind === 'partial' ? 206 : 200);
    res.set({
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': attachmentDisposition(baseNameOf(path)),
      'Content-Length': String(length),
      ...(range.kind === 'partial' ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    });
    const rangeText = range.kind === 'partial' ? `${start}-${end}/${size}` : null;
    const meter = new ByteMeter({ hash: true, onBytes: (bytes) => transfer.progress(bytes) });
    if (length === 0) {
      res.end();
      return { bytes: 0, sha256: meter.sha256(), range: rangeText, complete: true };
    }
    const source = new SftpReadStream(sftp, handle, start, end);
    try {
      await pipeline(source, meter, res, { signal: transfer.signal });
    } catch {
      // The browser left, access ended or the VM failed: the response is cut, never completed short.
      res.destroy();
    }
    const complete = meter.bytes === length && res.writableFinished;
    return { bytes: meter.bytes, sha256: meter.sha256(), range: rangeText, complete };
  } finally {
    closeHandle(sftp, handle).catch(() => undefined);
  }
}
