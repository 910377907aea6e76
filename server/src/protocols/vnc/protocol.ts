/**
 * The screen: the macOS VM's VNC server, spoken to noVNC as plain RFB. The gateway authenticates
 * to the VM (ARD or VncAuth) and offers the browser only security type None.
 */
import type { ProtocolAdapter } from '../protocol.js';
import { BufferPool } from '../buffer-pool.js';
import { ScreenBridge } from './bridge.js';

/** Node's own read size: one read fills one buffer. */
export const VM_READ_BUFFER_BYTES = 64 * 1024;
/** What one screen has in flight at the backpressure mark (8 MiB): a screen at full speed reuses every buffer. */
export const VM_READ_POOL_MAX_FREE = 128;

export interface VncProtocolDeps {
  /** The screens' VM reads, shared by every screen of the process. */
  readonly readPool: BufferPool;
}

/** One pool for the process's screens. */
export function screenReadPool(): BufferPool {
  return new BufferPool(VM_READ_BUFFER_BYTES, VM_READ_POOL_MAX_FREE);
}

export function vncProtocol(deps: VncProtocolDeps): ProtocolAdapter<'vnc'> {
  return {
    kind: 'vnc',
    // The gateway drops a view-only page's keys, pointer and clipboard (client-message-filter.ts).
    viewOnly: true,
    recordable: false,
    unavailableOn: (build) => (build.stack !== 'macos' || build.vnc === null ? 'vnc is only available on macOS builds with a registered screen' : null),
    open: (context) => {
      const { vnc } = context.build;
      if (!vnc) throw new Error(`build ${context.build.id} has no vnc endpoint`);
      return new ScreenBridge({ ...context, readPool: deps.readPool, credentials: { username: vnc.username, password: context.openSecret(vnc.sealedPassword, 'vnc.password') ?? '' } });
    },
  };
}
