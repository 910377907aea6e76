/** The decider behind a VM's links: what opens at once, what is asked about, what never opens. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideLinkOpen, safeWebUrl } from '../../client/src/terminal/links.js';

const TARGET = 'https://ci.example.com/builds/7';

test('links: only http(s) targets, normalised', () => {
  assert.equal(safeWebUrl('HTTPS://CI.Example.com'), 'https://ci.example.com/');
  for (const bad of ['javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'ftp://x.example', 'not a url', '']) {
    assert.equal(safeWebUrl(bad), null, bad);
    assert.deepEqual(decideLinkOpen('ci.example.com', bad), { kind: 'refuse' }, bad);
  }
});

// File names with a letter extension ("README.md") read as host names too: they are asked about.
test('links: text that is not an address, or is the target itself, opens at once', () => {
  for (const shown of ['build log', 'click here', '', 'v1.2.3', 'https://ci.example.com/builds/7', 'https://ci.example.com/builds/7#top',
    'ci.example.com', 'ci.example.com/builds/7', '<https://ci.example.com/builds/7>', '(ci.example.com).', 'HTTPS://CI.EXAMPLE.COM/builds/7']) {
    assert.deepEqual(decideLinkOpen(shown, TARGET), { kind: 'open', target: TARGET }, shown);
  }
});

test('links: text that reads as another address is asked about', () => {
  for (const shown of [
    'https://accounts.example.com/login',
    'https://ci.example.com/builds/8',
    'http://ci.example.com/builds/7',
    'https://ci.example.com:8443/builds/7',
    'accounts.example.com',
    'ci.example.com/builds/8',
    'ci.example.com.evil.test',
    '10.0.0.1',
    'Sign in at bank.example to continue',
    'https://ci.exаmple.com/builds/7', // Cyrillic "а": another host once punycoded
    'https://[broken',
    'github\uFF0Ecom/login', // fullwidth dot: the URL parser reads github.com
    'github\u3002com', // ideographic full stop, likewise
    'git\u200Bhub.com', // a zero-width space hidden inside the word
  ]) {
    const decision = decideLinkOpen(shown, TARGET);
    assert.deepEqual(decision, { kind: 'confirm', target: TARGET, shown: shown.trim() }, shown);
  }
});
