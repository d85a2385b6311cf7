import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { desiredServers, parseSerfMembers, SerfError } from '../../../src/stack/serf-handler/members.js';

// The shape `serf members -format=json` prints (serf 0.8).
const json = JSON.stringify({
  members: [
    { name: 'balancer', addr: '10.77.0.1:7946', port: 7946, tags: { role: 'balancer' }, status: 'alive', protocol: { max: 5, min: 2, version: 4 } },
    { name: 'web1', addr: '10.77.0.10:7946', port: 7946, tags: { role: 'backend', port: '3000' }, status: 'alive' },
    { name: 'web2', addr: '10.77.0.11:7946', port: 7946, tags: { role: 'backend' }, status: 'left' },
    { name: 'web3', addr: '10.77.0.12:7946', port: 7946, tags: { role: 'backend' }, status: 'failed' },
    { name: 'web4', addr: '10.77.0.13:7946', port: 7946, tags: { role: 'backend', port: '8080' }, status: 'alive' },
    { name: 'web5', addr: '10.77.0.14:7946', port: 7946, tags: { role: 'backend' }, status: 'leaving' },
    { name: 'v6', addr: '[fd00::5]:7946', port: 7946, tags: { role: 'backend', port: 'x' }, status: 'alive' },
  ],
});

describe('Serf members', () => {
  test('parses names, addresses without the gossip port, tags and status', () => {
    const members = parseSerfMembers(json);
    assert.equal(members.length, 7);
    assert.deepEqual(members[1], { name: 'web1', address: '10.77.0.10', tags: { role: 'backend', port: '3000' }, status: 'alive' });
    assert.equal(members[6]!.address, 'fd00::5');
  });

  test('servers are the alive role=backend members; a port tag overrides the default', () => {
    assert.deepEqual(desiredServers(parseSerfMembers(json), 3000), [
      { name: 'v6', address: 'fd00::5', port: 3000 },
      { name: 'web1', address: '10.77.0.10', port: 3000 },
      { name: 'web4', address: '10.77.0.13', port: 8080 },
    ]);
  });

  test('output that is not the members JSON is a SerfError', () => {
    assert.throws(() => parseSerfMembers('Error connecting to Serf agent'), SerfError);
    assert.throws(() => parseSerfMembers('{"members":[{"name":"x"}]}'), /member 0 lacks/);
  });
});
