import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withSection, type DocSection } from '../../../bench/doc-section.js';

const section: DocSection = { name: 'demo', heading: '## Demo', writer: 'the demo bench' };

test('a new section is appended under its heading, between markers', () => {
  const out = withSection('# Benchmarks\n\nintro\n', section, 'first result');
  assert.match(out, /^# Benchmarks\n\nintro\n\n## Demo\n\n<!-- bench:demo begin: written by the demo bench; edit outside the markers -->\n\nfirst result\n\n<!-- bench:demo end -->\n$/);
});

test('a re-run replaces only what is between its markers', () => {
  const once = withSection('# Benchmarks\n', section, 'first result');
  const annotated = once.replace('## Demo\n', '## Demo\n\nhand-written before\n') + '\nhand-written after\n';
  const twice = withSection(annotated, section, 'second result');
  assert.ok(twice.includes('second result'));
  assert.ok(!twice.includes('first result'));
  assert.ok(twice.includes('hand-written before'));
  assert.ok(twice.includes('hand-written after'));
  assert.equal(twice.match(/<!-- bench:demo begin/g)?.length, 1);
});

test('other sections are left alone', () => {
  const other: DocSection = { name: 'other', heading: '## Other', writer: 'x' };
  const both = withSection(withSection('# B\n', section, 'demo 1'), other, 'other 1');
  const after = withSection(both, section, 'demo 2');
  assert.ok(after.includes('other 1'));
  assert.ok(after.includes('demo 2'));
  assert.ok(after.indexOf('## Demo') < after.indexOf('## Other'));
});
