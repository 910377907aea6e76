/**
 * The screen: the macOS VM's VNC server, spoken to noVNC as plain RFB. The gateway authenticates
 * to the VM (ARD or VncAuth) and offers the browser only security type None.
 */
import type { ProtocolAdapter } from '../protocol.js';
import { ScreenBridge } from './bridge.js';

export function vncProtocol(): ProtocolAdapter<'vnc'> {
  return {
    kind: 'vnc',
    // The gateway drops a view-only page's keys, pointer and clipboard (client-message-filter.ts).
    viewOnly: true,
    recordable: false,
    unavailableOn: (build) => (build.stack !== 'macos' || build.vnc === null ? 'vnc is only available on macOS builds with a registered screen' : null),
    open: (context) => {
      const { vnc } = context.build;
      if (!vnc) throw new Error(`build ${context.build.id} has no vnc endpoint`);
      return new ScreenBridge({ ...context, credentials: { username: vnc.username, password: context.openSecret(vnc.sealedPassword, 'vnc.password') ?? '' } });
    },
  };
}
