import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectingText } from '../../client/src/session/pane-status.js';

test('the pane says which step a connection is at, and whether it is a reconnection', () => {
  const vm = 'the gateway is logging in to the build VM';
  assert.equal(connectingText('ticket', false, vm), 'Connecting… asking the gateway for access to this build');
  assert.equal(connectingText('gateway', false, vm), 'Connecting… opening the connection to the gateway');
  assert.equal(connectingText('vm', false, vm), 'Connecting… the gateway is logging in to the build VM');
  assert.equal(connectingText('vm', true, vm), 'Reconnecting… the gateway is logging in to the build VM');
});
