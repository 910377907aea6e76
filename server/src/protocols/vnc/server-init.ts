/**
 * Checks the VM's ServerInit (RFC 6143 §7.3.2) before any of it reaches the browser, so a hostile
 * VNC server cannot announce an absurd screen or a desktop name large enough to stall the page.
 *
 *   U16 width | U16 height | 16-byte PIXEL_FORMAT | U32 name-length | name (UTF-8 text)
 *
 * The name is passed through unchanged: pages treat it as text, never as HTML.
 */
export const SERVER_INIT_HEADER_BYTES = 24;
/** RFB's 16-bit sizes allow 65535; real displays (8K included) stay far below this. */
export const MAX_SCREEN_EDGE_PX = 16_384;
/** macOS and Xvnc names are a host name or "user's desktop"; this leaves room and no more. */
export const MAX_DESKTOP_NAME_BYTES = 4096;
/** RFB pixel formats: bits-per-pixel is 8, 16 or 32. */
const VALID_BITS_PER_PIXEL: ReadonlySet<number> = new Set([8, 16, 32]);

export type ServerInitCheck =
  | { readonly state: 'incomplete' }
  | { readonly state: 'complete'; readonly length: number }
  | { readonly state: 'invalid'; readonly reason: string };

/** `data` holds at least the header when `available` bytes have arrived (the name may still be on its way). */
export function checkServerInit(data: Buffer, available = data.length): ServerInitCheck {
  if (data.length < SERVER_INIT_HEADER_BYTES) return { state: 'incomplete' };
  const width = data.readUInt16BE(0);
  const height = data.readUInt16BE(2);
  if (width === 0 || height === 0 || width > MAX_SCREEN_EDGE_PX || height > MAX_SCREEN_EDGE_PX) {
    return { state: 'invalid', reason: `screen size ${width}x${height} is out of range` };
  }
  const bitsPerPixel = data.readUInt8(4);
  if (!VALID_BITS_PER_PIXEL.has(bitsPerPixel)) return { state: 'invalid', reason: `bits per pixel ${bitsPerPixel} is not 8, 16 or 32` };
  const nameLength = data.readUInt32BE(20);
  if (nameLength > MAX_DESKTOP_NAME_BYTES) return { state: 'invalid', reason: `desktop name of ${nameLength} bytes is too long` };
  const length = SERVER_INIT_HEADER_BYTES + nameLength;
  return available < length ? { state: 'incomplete' } : { state: 'complete', length };
}
